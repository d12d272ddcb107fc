#pragma once
// RAII over the HDF5 C library, and the few typed read/write helpers the project needs.
// Every failure throws lsmss::FileError naming the file and object.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lsmss::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: handles are used where hid_t is expected
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

enum class Mode { read, read_write };

// An open HDF5 file (silences the library's own error printing; errors become exceptions).
class File {
 public:
  static File create(const std::filesystem::path& path);  // truncates
  static File open(const std::filesystem::path& path, Mode mode = Mode::read);
  static bool is_hdf5(const std::filesystem::path& path);
  hid_t id() const { return h_.id(); }
  operator hid_t() const { return h_.id(); }  // NOLINT
  const std::string& path() const { return path_; }
  void flush() const;

 private:
  Handle h_;
  std::string path_;
};

// Context for error messages: "file.h5:/group/name".
std::string object_name(hid_t loc, const std::string& name);

bool exists(hid_t loc, const std::string& path);  // link exists (intermediate groups checked)
Handle open_group(hid_t loc, const std::string& name);
Handle create_group(hid_t loc, const std::string& name);

// Attributes (scalar string/double/int64, or 1-D vectors) on any object.
bool has_attr(hid_t obj, const std::string& name);
void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, const char* value);
void write_attr(hid_t obj, const std::string& name, double value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_attr(hid_t obj, const std::string& name, const std::vector<double>& value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& value);
std::string read_attr_string(hid_t obj, const std::string& name);
double read_attr_double(hid_t obj, const std::string& name);
std::int64_t read_attr_int(hid_t obj, const std::string& name);
std::vector<double> read_attr_doubles(hid_t obj, const std::string& name);
std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name);
std::vector<std::string> read_attr_strings(hid_t obj, const std::string& name);

// Element types supported by the dataset helpers.
template <class T>
hid_t native_type();

std::vector<hsize_t> dims(hid_t loc, const std::string& name);

// 1-D datasets of variable-length UTF-8 strings (e.g. a row's source).
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& data);
std::vector<std::string> read_strings(hid_t loc, const std::string& name);

// Whole datasets. `shape` empty means 1-D of data.size().
template <class T>
void write(hid_t loc, const std::string& name, const std::vector<T>& data,
           std::vector<hsize_t> shape = {});
template <class T>
std::vector<T> read(hid_t loc, const std::string& name, std::vector<hsize_t>* shape = nullptr);
// Reads rows [first, first+count) of a dataset whose first dimension is the row index.
template <class T>
std::vector<T> read_rows(hid_t loc, const std::string& name, hsize_t first, hsize_t count);

// Extendable datasets: rows x cols (cols = 0 for 1-D), chunked along rows, gzip optional.
template <class T>
void create_extendable(hid_t loc, const std::string& name, hsize_t cols, hsize_t chunk_rows,
                       int gzip_level = 0);
// Appends `rows` rows (data.size() == rows * max(cols,1)); returns the new row count.
template <class T>
hsize_t append_rows(hid_t loc, const std::string& name, const std::vector<T>& data, hsize_t rows);
// The one append path: extends the open extendable `dataset` (1-D, or rows x cols) by `rows` rows
// and writes them from `data`, laid out in the memory type `mem_type`. `dxpl` may carry reusable
// conversion buffers (the dataset store's strings).
void append_rows(hid_t dataset, hid_t mem_type, const void* data, hsize_t rows,
                 hid_t dxpl = H5P_DEFAULT);
// Overwrites rows [first, first+rows) in place.
template <class T>
void write_rows(hid_t loc, const std::string& name, const std::vector<T>& data, hsize_t first,
                hsize_t rows);
// Shrinks or grows the first dimension (used to drop a half-written tail on resume).
void resize_rows(hid_t loc, const std::string& name, hsize_t rows);

}  // namespace lsmss::h5
