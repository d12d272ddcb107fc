#pragma once
// RAII for MPI: a session that initializes/finalizes MPI once per process, and communicators
// that free themselves.
#include <mpi.h>

namespace lsmss::mpi {

// Initializes MPI (thread level FUNNELED) unless already initialized; finalizes on destruction
// only if it initialized.
class Session {
 public:
  Session(int* argc, char*** argv);
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  bool owner_ = false;
};

// Rank and size of a communicator; 0 and 1 when MPI is not initialized, so library code given
// MPI_COMM_SELF also runs in programs (tests, embedders) that never start MPI.
int rank_of(MPI_Comm comm);
int size_of(MPI_Comm comm);

class Comm {
 public:
  Comm() = default;
  explicit Comm(MPI_Comm c, bool owned) : comm_(c), owned_(owned) {}
  static Comm world() { return Comm(MPI_COMM_WORLD, false); }
  static Comm self() { return Comm(MPI_COMM_SELF, false); }
  Comm split(int color, int key) const;  // owned result

  ~Comm();
  Comm(Comm&& o) noexcept : comm_(o.comm_), owned_(o.owned_) { o.owned_ = false; }
  Comm& operator=(Comm&& o) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  MPI_Comm get() const { return comm_; }
  int rank() const;
  int size() const;
  void barrier() const;

 private:
  MPI_Comm comm_ = MPI_COMM_SELF;
  bool owned_ = false;
};

}  // namespace lsmss::mpi
