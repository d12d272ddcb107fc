#include "core/mpi.hpp"

#include <exception>

#include "core/error.hpp"

namespace lsmss::mpi {

Session::Session(int* argc, char*** argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      fail("MPI_Init_thread failed");
    owner_ = true;
  }
}

Session::Session() : Session(nullptr, nullptr) {}

Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  // While an exception unwinds, other ranks may be waiting in a collective call: MPI_Finalize
  // would hang. The program's error handler (app/main.cpp) ends MPI instead, aborting the job
  // or finalizing: a library never decides that.
  if (owner_ && !finalized && std::uncaught_exceptions() == 0) MPI_Finalize();
}

Comm Comm::split(int color, int key) const {
  MPI_Comm out = MPI_COMM_NULL;
  if (MPI_Comm_split(comm_, color, key, &out) != MPI_SUCCESS) fail("MPI_Comm_split failed");
  return Comm(out, true);
}

Comm::~Comm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owned_ && !finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

Comm& Comm::operator=(Comm&& o) noexcept {
  if (this != &o) {
    Comm tmp(std::move(*this));
    comm_ = o.comm_;
    owned_ = o.owned_;
    o.owned_ = false;
  }
  return *this;
}

int rank_of(MPI_Comm comm) {
  int inited = 0;
  MPI_Initialized(&inited);
  int r = 0;
  if (inited) MPI_Comm_rank(comm, &r);
  return r;
}

int size_of(MPI_Comm comm) {
  int inited = 0;
  MPI_Initialized(&inited);
  int s = 1;
  if (inited) MPI_Comm_size(comm, &s);
  return s;
}

int Comm::rank() const {
  return rank_of(comm_);
}

int Comm::size() const {
  return size_of(comm_);
}

void Comm::barrier() const {
  MPI_Barrier(comm_);
}

}  // namespace lsmss::mpi
