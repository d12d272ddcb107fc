#include "core/hdf5.hpp"

#include "core/hdf5_listing.hpp"

#include <fstream>

namespace lsmss::h5 {
namespace {

void silence() {
  // No library shutdown at exit: after a failed write (full disk) HDF5 1.10 cannot close the
  // file, keeps it in its table, and its exit-time cleanup then crashes (SIGSEGV in
  // H5F__close_cb) instead of the program ending with its error. Files are closed by their
  // handles; what a failed close leaves is released with the process. Must precede every
  // other HDF5 call, so it is done on the first one (later calls are harmless no-ops).
  static const bool no_atexit = [] { return H5dont_atexit() >= 0; }();
  (void)no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string file_of(hid_t loc) {
  ssize_t n = H5Fget_name(loc, nullptr, 0);
  if (n <= 0) return "<hdf5>";
  std::string s(static_cast<std::size_t>(n), '\0');
  H5Fget_name(loc, s.data(), s.size() + 1);
  return s;
}

std::string path_of(hid_t loc) {
  ssize_t n = H5Iget_name(loc, nullptr, 0);
  if (n <= 0) return "";
  std::string s(static_cast<std::size_t>(n), '\0');
  H5Iget_name(loc, s.data(), s.size() + 1);
  return s;
}

[[noreturn]] void h5fail(hid_t loc, const std::string& name, const std::string& what) {
  throw FileError(fmt::format("{}: {}", object_name(loc, name), what));
}

Handle open_dataset(hid_t loc, const std::string& name) {
  if (!exists(loc, name))
    h5fail(loc, name, "dataset is missing (is this a file of the right kind?)");
  hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (d < 0) h5fail(loc, name, "cannot open dataset");
  return Handle(d, H5Dclose);
}

Handle open_attr(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) h5fail(obj, "@" + name, "attribute is missing");
  hid_t a = H5Aopen(obj, name.c_str(), H5P_DEFAULT);
  if (a < 0) h5fail(obj, "@" + name, "cannot open attribute");
  return Handle(a, H5Aclose);
}

void write_attr_raw(hid_t obj, const std::string& name, hid_t type,
                    const std::vector<hsize_t>& shape, const void* data) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle space(shape.empty()
                   ? H5Screate(H5S_SCALAR)
                   : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
               H5Sclose);
  Handle attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || H5Awrite(attr, type, data) < 0)
    h5fail(obj, "@" + name, "cannot write attribute");
}

Handle string_type() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return Handle(t, H5Tclose);
}

template <class T>
std::vector<T> read_attr_vec(hid_t obj, const std::string& name) {
  Handle a = open_attr(obj, name);
  Handle space(H5Aget_space(a), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<T> v(static_cast<std::size_t>(n));
  if (H5Aread(a, native_type<T>(), v.data()) < 0)
    h5fail(obj, "@" + name, "cannot read attribute as a number");
  return v;
}

}  // namespace

template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int8_t>() {
  return H5T_NATIVE_INT8;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t native_type<std::int32_t>() {
  return H5T_NATIVE_INT32;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}

std::string object_name(hid_t loc, const std::string& name) {
  if (name.empty()) return file_of(loc) + ":" + path_of(loc);  // `loc` itself
  std::string p = path_of(loc);
  if (p.empty() || p.back() != '/') p += '/';
  return file_of(loc) + ":" + (name.empty() ? p : (name[0] == '/' ? name : p + name));
}

File File::create(const std::filesystem::path& path) {
  silence();
  File f;
  f.path_ = path.string();
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  hid_t id = H5Fcreate(f.path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (id < 0)
    throw FileError(
        fmt::format("{}: cannot create HDF5 file (directory missing or not writable?)", f.path_));
  f.h_ = Handle(id, H5Fclose);
  return f;
}

bool File::is_hdf5(const std::filesystem::path& path) {
  silence();
  return H5Fis_hdf5(path.string().c_str()) > 0;
}

File File::open(const std::filesystem::path& path, Mode mode) {
  silence();
  File f;
  f.path_ = path.string();
  if (!std::filesystem::exists(path)) throw FileError(fmt::format("{}: no such file", f.path_));
  if (!is_hdf5(path))
    throw FileError(fmt::format("{}: not an HDF5 file (corrupt, or a different format)", f.path_));
  hid_t id =
      H5Fopen(f.path_.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
  if (id < 0)
    throw FileError(fmt::format(
        "{}: cannot open HDF5 file (corrupt, locked by another process, or not writable)",
        f.path_));
  f.h_ = Handle(id, H5Fclose);
  return f;
}

void File::flush() const {
  if (H5Fflush(h_, H5F_SCOPE_GLOBAL) < 0) throw FileError(fmt::format("{}: flush failed", path_));
}

bool exists(hid_t loc, const std::string& path) {
  silence();
  // Check each component so a missing intermediate group is not an HDF5 error.
  std::string partial;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::string comp =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!comp.empty()) {
      partial += (partial.empty() && path[0] != '/' ? "" : "/") + comp;
      if (H5Lexists(loc, partial.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Handle open_group(hid_t loc, const std::string& name) {
  if (!exists(loc, name)) h5fail(loc, name, "group is missing (is this a file of the right kind?)");
  hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);
  if (g < 0) h5fail(loc, name, "cannot open group");
  return Handle(g, H5Gclose);
}

Handle create_group(hid_t loc, const std::string& name) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t g = H5Gcreate2(loc, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  if (g < 0) h5fail(loc, name, "cannot create group");
  return Handle(g, H5Gclose);
}

bool has_attr(hid_t obj, const std::string& name) {
  return H5Aexists(obj, name.c_str()) > 0;
}

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle t = string_type();
  const char* p = value.c_str();
  write_attr_raw(obj, name, t, {}, &p);
}
void write_attr(hid_t obj, const std::string& name, const char* value) {
  write_attr(obj, name, std::string(value));
}
void write_attr(hid_t obj, const std::string& name, double value) {
  write_attr_raw(obj, name, H5T_NATIVE_DOUBLE, {}, &value);
}
void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_attr_raw(obj, name, H5T_NATIVE_INT64, {}, &value);
}
void write_attr(hid_t obj, const std::string& name, const std::vector<double>& value) {
  write_attr_raw(obj, name, H5T_NATIVE_DOUBLE, {value.size()}, value.data());
}
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value) {
  write_attr_raw(obj, name, H5T_NATIVE_INT64, {value.size()}, value.data());
}
void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& value) {
  Handle t = string_type();
  std::vector<const char*> ptrs;
  ptrs.reserve(value.size());
  for (const auto& s : value) ptrs.push_back(s.c_str());
  write_attr_raw(obj, name, t, {value.size()}, ptrs.data());
}

std::string read_attr_string(hid_t obj, const std::string& name) {
  auto v = read_attr_strings(obj, name);
  if (v.size() != 1) h5fail(obj, "@" + name, "expected a single string");
  return v[0];
}
std::vector<std::string> read_attr_strings(hid_t obj, const std::string& name) {
  Handle a = open_attr(obj, name);
  Handle ftype(H5Aget_type(a), H5Tclose);
  if (H5Tget_class(ftype) != H5T_STRING) h5fail(obj, "@" + name, "attribute is not a string");
  Handle space(H5Aget_space(a), H5Sclose);
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<std::string> out;
  if (H5Tis_variable_str(ftype) > 0) {
    Handle t = string_type();
    std::vector<char*> buf(n, nullptr);
    if (H5Aread(a, t, buf.data()) < 0) h5fail(obj, "@" + name, "cannot read string attribute");
    for (char* s : buf) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(t, space, H5P_DEFAULT, buf.data());
  } else {
    const std::size_t len = H5Tget_size(ftype);
    std::vector<char> buf(len * n + 1, '\0');
    if (H5Aread(a, ftype, buf.data()) < 0) h5fail(obj, "@" + name, "cannot read string attribute");
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      s.erase(s.find_last_not_of('\0') + 1);
      out.push_back(s);
    }
  }
  return out;
}
double read_attr_double(hid_t obj, const std::string& name) {
  auto v = read_attr_vec<double>(obj, name);
  if (v.size() != 1) h5fail(obj, "@" + name, "expected a scalar");
  return v[0];
}
std::int64_t read_attr_int(hid_t obj, const std::string& name) {
  auto v = read_attr_vec<std::int64_t>(obj, name);
  if (v.size() != 1) h5fail(obj, "@" + name, "expected a scalar");
  return v[0];
}
std::vector<double> read_attr_doubles(hid_t obj, const std::string& name) {
  return read_attr_vec<double>(obj, name);
}
std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name) {
  return read_attr_vec<std::int64_t>(obj, name);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& data) {
  if (exists(loc, name)) H5Ldelete(loc, name.c_str(), H5P_DEFAULT);
  const hsize_t n = data.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle t = string_type();
  Handle d(H5Dcreate2(loc, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
  std::vector<const char*> ptrs;
  ptrs.reserve(data.size());
  for (const auto& x : data) ptrs.push_back(x.c_str());
  if (!d.valid() || (n > 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0))
    h5fail(loc, name, "cannot write strings");
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
  Handle d = open_dataset(loc, name);
  Handle ftype(H5Dget_type(d), H5Tclose);
  if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
    h5fail(loc, name, "expected a variable-length string dataset");
  Handle space(H5Dget_space(d), H5Sclose);
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<char*> buf(n, nullptr);
  Handle t = string_type();
  if (n > 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    h5fail(loc, name, "cannot read strings");
  std::vector<std::string> out;
  out.reserve(n);
  for (char* x : buf) out.emplace_back(x ? x : "");
  if (n > 0) H5Dvlen_reclaim(t, space, H5P_DEFAULT, buf.data());
  return out;
}

std::vector<hsize_t> dims(hid_t loc, const std::string& name) {
  Handle d = open_dataset(loc, name);
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> shape(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, shape.data(), nullptr);
  return shape;
}

template <class T>
void write(hid_t loc, const std::string& name, const std::vector<T>& data,
           std::vector<hsize_t> shape) {
  if (shape.empty()) shape = {data.size()};
  hsize_t n = 1;
  for (auto s : shape) n *= s;
  if (n != data.size())
    h5fail(loc, name, fmt::format("shape holds {} values, data has {}", n, data.size()));
  if (exists(loc, name)) H5Ldelete(loc, name.c_str(), H5P_DEFAULT);
  Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  Handle d(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, lcpl, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
  H5Pclose(lcpl);
  if (!d.valid()) h5fail(loc, name, "cannot create dataset");
  if (n > 0 && H5Dwrite(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    h5fail(loc, name, "cannot write dataset");
}

template <class T>
std::vector<T> read(hid_t loc, const std::string& name, std::vector<hsize_t>* shape) {
  Handle d = open_dataset(loc, name);
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> sh(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, sh.data(), nullptr);
  hsize_t n = 1;
  for (auto s : sh) n *= s;
  std::vector<T> v(n);
  if (n > 0 && H5Dread(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    h5fail(loc, name, "cannot read dataset (wrong element type?)");
  if (shape) *shape = sh;
  return v;
}

template <class T>
std::vector<T> read_rows(hid_t loc, const std::string& name, hsize_t first, hsize_t count) {
  Handle d = open_dataset(loc, name);
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> sh(static_cast<std::size_t>(std::max(rank, 1)));
  H5Sget_simple_extent_dims(space, sh.data(), nullptr);
  if (first + count > sh[0])
    h5fail(loc, name,
           fmt::format("rows {}..{} requested, dataset has {}", first, first + count, sh[0]));
  std::vector<hsize_t> start(sh.size(), 0), cnt = sh;
  start[0] = first;
  cnt[0] = count;
  hsize_t n = 1;
  for (auto s : cnt) n *= s;
  std::vector<T> v(n);
  if (n == 0) return v;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mem(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr), H5Sclose);
  if (H5Dread(d, native_type<T>(), mem, space, H5P_DEFAULT, v.data()) < 0)
    h5fail(loc, name, "cannot read rows");
  return v;
}

template <class T>
void create_extendable(hid_t loc, const std::string& name, hsize_t cols, hsize_t chunk_rows,
                       int gzip_level) {
  std::vector<hsize_t> cur = {0}, max = {H5S_UNLIMITED}, chunk = {std::max<hsize_t>(chunk_rows, 1)};
  if (cols > 0) {
    cur.push_back(cols);
    max.push_back(cols);
    chunk.push_back(cols);
  }
  Handle space(H5Screate_simple(static_cast<int>(cur.size()), cur.data(), max.data()), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  if (gzip_level > 0) H5Pset_deflate(dcpl, static_cast<unsigned>(gzip_level));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl, 1);
  Handle d(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, lcpl, dcpl, H5P_DEFAULT),
           H5Dclose);
  if (!d.valid()) h5fail(loc, name, "cannot create extendable dataset");
}

template <class T>
void write_rows(hid_t loc, const std::string& name, const std::vector<T>& data, hsize_t first,
                hsize_t rows) {
  Handle d = open_dataset(loc, name);
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> sh(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, sh.data(), nullptr);
  const hsize_t cols = rank > 1 ? sh[1] : 1;
  if (data.size() != rows * cols)
    h5fail(
        loc, name,
        fmt::format("{} rows of {} need {} values, got {}", rows, cols, rows * cols, data.size()));
  if (first + rows > sh[0]) h5fail(loc, name, "write past the end of the dataset");
  if (rows == 0) return;
  std::vector<hsize_t> start(sh.size(), 0), cnt = sh;
  start[0] = first;
  cnt[0] = rows;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mem(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  if (H5Dwrite(d, native_type<T>(), mem, space, H5P_DEFAULT, data.data()) < 0)
    h5fail(loc, name, "cannot write rows");
}

void resize_rows(hid_t loc, const std::string& name, hsize_t rows) {
  Handle d = open_dataset(loc, name);
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> sh(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, sh.data(), nullptr);
  sh[0] = rows;
  if (H5Dset_extent(d, sh.data()) < 0) h5fail(loc, name, "cannot resize dataset (not extendable?)");
}

void append_rows(hid_t dataset, hid_t mem_type, const void* data, hsize_t rows, hid_t dxpl) {
  if (rows == 0) return;
  Handle space(H5Dget_space(dataset), H5Sclose);
  hsize_t sh[2] = {0, 0};
  const int rank = H5Sget_simple_extent_dims(space, sh, nullptr);
  const hsize_t old = sh[0];
  sh[0] += rows;
  if (H5Dset_extent(dataset, sh) < 0) h5fail(dataset, "", "cannot extend dataset");
  Handle fspace(H5Dget_space(dataset), H5Sclose);
  hsize_t start[2] = {old, 0}, count[2] = {rows, sh[1]};
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  Handle mspace(H5Screate_simple(rank, count, nullptr), H5Sclose);
  if (H5Dwrite(dataset, mem_type, mspace, fspace, dxpl, data) < 0)
    h5fail(dataset, "", "cannot append rows");
}

template <class T>
hsize_t append_rows(hid_t loc, const std::string& name, const std::vector<T>& data, hsize_t rows) {
  Handle d = open_dataset(loc, name);
  const std::vector<hsize_t> sh = dims(loc, name);
  const hsize_t cols = sh.size() > 1 ? sh[1] : 1;
  if (data.size() != rows * cols)
    h5fail(
        loc, name,
        fmt::format("{} rows of {} need {} values, got {}", rows, cols, rows * cols, data.size()));
  append_rows(d, native_type<T>(), data.data(), rows);
  return sh[0] + rows;
}

#define LSMSS_H5_INSTANTIATE(T)                                                                   \
  template void write<T>(hid_t, const std::string&, const std::vector<T>&, std::vector<hsize_t>); \
  template std::vector<T> read<T>(hid_t, const std::string&, std::vector<hsize_t>*);              \
  template std::vector<T> read_rows<T>(hid_t, const std::string&, hsize_t, hsize_t);              \
  template void create_extendable<T>(hid_t, const std::string&, hsize_t, hsize_t, int);           \
  template hsize_t append_rows<T>(hid_t, const std::string&, const std::vector<T>&, hsize_t);     \
  template void write_rows<T>(hid_t, const std::string&, const std::vector<T>&, hsize_t, hsize_t);
LSMSS_H5_INSTANTIATE(float)
LSMSS_H5_INSTANTIATE(double)
LSMSS_H5_INSTANTIATE(std::int8_t)
LSMSS_H5_INSTANTIATE(std::uint8_t)
LSMSS_H5_INSTANTIATE(std::int32_t)
LSMSS_H5_INSTANTIATE(std::int64_t)
LSMSS_H5_INSTANTIATE(std::uint64_t)
#undef LSMSS_H5_INSTANTIATE

namespace {

herr_t collect_attribute(hid_t loc, const char* name, const H5A_info_t* /*info*/, void* data) {
  auto* out = static_cast<std::vector<AttributeValue>*>(data);
  AttributeValue v;
  v.name = name;
  try {
    const Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
    const Handle t(H5Aget_type(a), H5Tclose);
    const H5T_class_t type_class = H5Tget_class(t);
    if (type_class == H5T_STRING) {
      v.strings = read_attr_strings(loc, name);
      v.kind = AttributeValue::Kind::strings;
    } else if (type_class == H5T_INTEGER) {
      v.ints = read_attr_ints(loc, name);
      v.kind = AttributeValue::Kind::ints;
    } else {
      v.doubles = read_attr_doubles(loc, name);
      v.kind = AttributeValue::Kind::doubles;
    }
  } catch (const std::exception&) {
    v.kind = AttributeValue::Kind::unreadable;  // listed, value unknown
  }
  out->push_back(std::move(v));
  return 0;
}

herr_t collect_object(hid_t group, const char* name, const H5L_info_t* /*info*/, void* data) {
  auto* out = static_cast<std::vector<ObjectEntry>*>(data);
  const Handle o(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  ObjectEntry e;
  e.path = name;
  if (H5Iget_type(o) == H5I_DATASET) {
    e.is_dataset = true;
    e.shape = dims(group, name);
  }
  out->push_back(std::move(e));
  return 0;
}

}  // namespace

FileContents list_contents(const File& file) {
  FileContents c;
  H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute, &c.root_attributes);
  H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_object, &c.objects);
  return c;
}

}  // namespace lsmss::h5
