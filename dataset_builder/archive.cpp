#include "dataset_builder/archive.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

extern char** environ;

namespace lsmss::dataset {
namespace {

// Control characters (and DEL) as \xNN, so a name cannot drive the terminal or forge lines.
std::string printable(const std::string& name) {
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += ch;
  }
  return out;
}

bool hidden(const std::string& name) {
  const auto slash = name.find_last_of('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  return base.empty() || base[0] == '.';
}

// Buffered reads from a file descriptor, with exact-size reads for the tar stream.
class FdReader {
 public:
  FdReader(int fd, std::string what) : fd_(fd), what_(std::move(what)), buf_(1 << 20) {}
  // Reads exactly n bytes; returns false on a clean end of stream before the first byte.
  bool read(char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      if (pos_ == len_) {
        ssize_t r;
        do r = ::read(fd_, buf_.data(), buf_.size());
        while (r < 0 && errno == EINTR);
        if (r < 0) throw FileError(fmt::format("{}: read error: {}", what_, std::strerror(errno)));
        if (r == 0) {
          if (got == 0) return false;
          throw FileError(
              fmt::format("{}: archive ends in the middle of an entry (truncated?)", what_));
        }
        pos_ = 0;
        len_ = static_cast<std::size_t>(r);
      }
      const std::size_t k = std::min(n - got, len_ - pos_);
      std::memcpy(out + got, buf_.data() + pos_, k);
      got += k;
      pos_ += k;
    }
    return true;
  }
  // Reads and discards n bytes (a member that is not kept).
  bool skip(std::uint64_t n) {
    std::array<char, 4096> sink{};
    while (n > 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, sink.size()));
      if (!read(sink.data(), k)) return false;
      n -= k;
    }
    return true;
  }

 private:
  int fd_;
  std::string what_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, len_ = 0;
};

std::uint64_t tar_number(const char* f, std::size_t n) {
  if (static_cast<unsigned char>(f[0]) & 0x80) {  // GNU base-256 for large sizes
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(f[i]);
    return v;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && f[i]; ++i) {
    if (f[i] == ' ') continue;
    if (f[i] < '0' || f[i] > '7') break;
    v = v * 8 + static_cast<std::uint64_t>(f[i] - '0');
  }
  return v;
}

std::string field(const char* f, std::size_t n) {
  return std::string(f, strnlen(f, n));
}

// The "path" record of a pax extended header ("<len> path=<value>\n" records).
std::string pax_path(const std::string& data) {
  std::size_t p = 0;
  while (p < data.size()) {
    const auto sp = data.find(' ', p);
    if (sp == std::string::npos) break;
    const std::size_t len = std::strtoul(data.c_str() + p, nullptr, 10);
    if (len == 0 || p + len > data.size()) break;
    const std::string rec = data.substr(sp + 1, p + len - sp - 2);
    if (rec.rfind("path=", 0) == 0) return rec.substr(5);
    p += len;
  }
  return {};
}

void read_tar(int fd, const std::string& what, std::size_t batch_size,
              const std::function<void(std::vector<FileEntry>&)>& batch) {
  FdReader in(fd, what);
  std::array<char, 512> h{};
  std::vector<FileEntry> entries;
  std::string long_name;
  bool any = false;
  while (in.read(h.data(), h.size())) {
    if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) break;  // end-of-archive
    // Header checksum: the sum of all bytes with the checksum field read as spaces.
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i)
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    if (sum != tar_number(h.data() + 148, 8))
      throw FileError(fmt::format("{}: not a tar archive, or corrupt (bad header checksum{})", what,
                                  any ? " after a valid entry" : ""));
    any = true;
    const std::uint64_t size = tar_number(h.data() + 124, 12);
    const char type = h[156];
    const bool metadata = type == 'L' || type == 'x' || type == 'K' || type == 'g';
    // Only file contents and small metadata records are held in memory; anything bigger is
    // read past (a huge member must not end the import with an allocation failure).
    const bool keep =
        size <= kMaxImportFileBytes && (metadata || type == '0' || type == '\0' || type == '7');
    std::string data(keep ? size : 0, '\0');
    if (size > 0 && !(keep ? in.read(data.data(), size) : in.skip(size)))
      throw FileError(fmt::format("{}: archive ends in the middle of an entry (truncated?)", what));
    if (const std::size_t pad = (512 - size % 512) % 512; pad > 0) {
      std::array<char, 512> skip{};
      if (!in.read(skip.data(), pad)) throw FileError(fmt::format("{}: truncated archive", what));
    }
    if (type == 'L') {  // GNU long name of the next entry
      long_name = data.substr(0, strnlen(data.c_str(), data.size()));
      continue;
    }
    if (type == 'x') {  // pax extended header of the next entry
      long_name = pax_path(data);
      continue;
    }
    if (type == 'K' || type == 'g') continue;  // long link name, global pax header
    std::string name = field(h.data(), 100);
    const std::string prefix = field(h.data() + 345, 155);
    if (!prefix.empty() && std::memcmp(h.data() + 257, "ustar", 5) == 0) {
      name.insert(0, 1, '/');
      name.insert(0, prefix);
    }
    if (!long_name.empty()) name = std::move(long_name);
    long_name.clear();
    if (type == '5' || hidden(name)) continue;  // directories, hidden files
    name = printable(name);
    std::string skip;
    if (type != '0' && type != '\0' && type != '7') {
      static const std::map<char, const char*> kinds = {{'1', "a hard link"},
                                                        {'2', "a symbolic link"},
                                                        {'3', "a character device"},
                                                        {'4', "a block device"},
                                                        {'6', "a FIFO"}};
      const auto k = kinds.find(type);
      skip = fmt::format(
          "{}: {} in the archive, not a regular file: not read", name,
          k != kinds.end() ? k->second
                           : fmt::format("a member of type '{}'", printable(std::string(1, type))));
    } else if (!keep) {
      skip = fmt::format("{}: {} bytes, more than the {} MiB an LSMS output can have: not read",
                         name, size, kMaxImportFileBytes >> 20);
    }
    entries.push_back({std::move(name), std::move(data), std::move(skip)});
    if (entries.size() >= batch_size) {
      batch(entries);
      entries.clear();
    }
  }
  if (!any) throw FileError(fmt::format("{}: empty archive", what));
  if (!entries.empty()) batch(entries);
}

// Which decompressor a file needs, from its first bytes ("" = plain tar).
std::string decompressor(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw FileError(fmt::format("{}: cannot open", p.string()));
  unsigned char m[6] = {0, 0, 0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(m), 6);
  if (m[0] == 0xFD && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z') return "xz";
  if (m[0] == 0x1F && m[1] == 0x8B) return "gzip";
  if (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') return "bzip2";
  if (m[0] == 0x28 && m[1] == 0xB5 && m[2] == 0x2F && m[3] == 0xFD) return "zstd";
  return "";
}

namespace fs = std::filesystem;

// A file found in a source directory; `skip` not empty: reported, not read.
struct ListedFile {
  fs::path path;
  std::string skip;
};

// What one directory entry (not hidden) is: nothing to list (a directory), a file to read, or
// one to report. `link` is the entry's own status, `base` the canonical source directory.
std::optional<ListedFile> classify_entry(const fs::path& p, const std::string& rel,
                                         const fs::file_status& link, const fs::path& base) {
  fs::file_status st = link;
  if (fs::is_symlink(link)) {
    std::error_code rc;
    const fs::path target = fs::canonical(p, rc);
    if (rc)
      return ListedFile{
          p, fmt::format("{}: symbolic link that leads nowhere ({}): not read", rel, rc.message())};
    const auto [b, t] = std::mismatch(base.begin(), base.end(), target.begin(), target.end());
    if (b != base.end())
      return ListedFile{p, fmt::format("{}: symbolic link to {}, outside the source directory: "
                                       "not read",
                                       rel, printable(target.string()))};
    st = fs::status(target, rc);
  }
  if (fs::is_directory(st)) {
    if (fs::is_symlink(link))
      return ListedFile{p, fmt::format("{}: symbolic link to a directory: not followed", rel)};
    return std::nullopt;
  }
  if (!fs::is_regular_file(st)) {
    const char* kind = fs::is_fifo(st)             ? "a FIFO"
                       : fs::is_character_file(st) ? "a character device"
                       : fs::is_block_file(st)     ? "a block device"
                       : fs::is_socket(st)         ? "a socket"
                                                   : "not a regular file";
    return ListedFile{p, fmt::format("{}: {}, not a regular file: not read", rel, kind)};
  }
  return ListedFile{p, {}};
}

// Everything under `source` that is listed, sorted by path. Listed first so the batches come
// in a stable order. Symbolic links are followed only to regular files inside the source
// directory; the walk itself never follows a directory link.
std::vector<ListedFile> list_directory(const fs::path& source) {
  std::error_code ec;
  const fs::path base = fs::canonical(source, ec);
  if (ec) throw FileError(fmt::format("{}: {}", source.string(), ec.message()));
  std::vector<ListedFile> items;
  fs::recursive_directory_iterator it(source, ec), end;
  if (ec) throw FileError(fmt::format("{}: cannot list: {}", source.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    const fs::path p = it->path();
    const std::string rel = printable(p.lexically_relative(source).string());
    if (hidden(p.filename().string())) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    if (auto item = classify_entry(p, rel, it->symlink_status(ec), base))
      items.push_back(std::move(*item));
  }
  if (ec) throw FileError(fmt::format("{}: cannot list: {}", source.string(), ec.message()));
  std::sort(items.begin(), items.end(),
            [](const ListedFile& a, const ListedFile& b) { return a.path < b.path; });
  return items;
}

// The entry for a listed file: its text, or why it is not read (unreadable size, too big).
FileEntry read_listed(ListedFile& item, const fs::path& source) {
  FileEntry e{printable(item.path.lexically_relative(source).string()), {}, std::move(item.skip)};
  if (!e.skip.empty()) return e;
  std::error_code sc;
  const auto size = fs::file_size(item.path, sc);
  if (sc) {
    e.skip = fmt::format("{}: cannot read: {}", e.name, sc.message());
  } else if (size > kMaxImportFileBytes) {
    e.skip = fmt::format(
        "{}: {} bytes, more than the {} MiB an LSMS output can have: "
        "not read",
        e.name, size, kMaxImportFileBytes >> 20);
  } else {
    std::ifstream in(item.path, std::ios::binary);
    if (!in) throw FileError(fmt::format("{}: cannot open", item.path.string()));
    e.text.assign(std::istreambuf_iterator<char>(in), {});
  }
  return e;
}

void read_directory(const fs::path& source, std::size_t batch_size,
                    const std::function<void(std::vector<FileEntry>&)>& batch) {
  std::vector<ListedFile> items = list_directory(source);
  std::vector<FileEntry> entries;
  for (auto& item : items) {
    entries.push_back(read_listed(item, source));
    if (entries.size() >= batch_size) {
      batch(entries);
      entries.clear();
    }
  }
  if (!entries.empty()) batch(entries);
}

void read_plain_tar(const fs::path& source, std::size_t batch_size,
                    const std::function<void(std::vector<FileEntry>&)>& batch) {
  const int fd = ::open(source.c_str(), O_RDONLY);
  if (fd < 0)
    throw FileError(fmt::format("{}: cannot open: {}", source.string(), std::strerror(errno)));
  try {
    read_tar(fd, source.string(), batch_size, batch);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

// Starts `<tool> -dc -- <path>` writing into a pipe; returns its pid and the pipe's read end.
std::pair<pid_t, int> spawn_decompressor(const std::string& tool, const std::string& path) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw FileError(fmt::format("{}: cannot create a pipe", path));
  // A large pipe buffer saves most of the context switches between the tool and us.
  fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  posix_spawn_file_actions_addclose(&fa, pipefd[1]);
  std::vector<char*> argv = {const_cast<char*>(tool.c_str()), const_cast<char*>("-dc"),
                             const_cast<char*>("--"), const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, tool.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    throw FileError(fmt::format("{}: is {}-compressed, but '{}' could not be run: {}", path, tool,
                                tool, std::strerror(rc)));
  }
  return {pid, pipefd[0]};
}

// Reads the tar stream the decompressor `tool` writes into a pipe; its failure is an error too.
void read_compressed_tar(const fs::path& source, const std::string& tool, std::size_t batch_size,
                         const std::function<void(std::vector<FileEntry>&)>& batch) {
  const std::string path = source.string();
  const auto [pid, fd] = spawn_decompressor(tool, path);
  std::exception_ptr error;
  try {
    read_tar(fd, path, batch_size, batch);
    // Drain the record padding after the end-of-archive blocks, so the tool exits normally.
    std::vector<char> rest(1 << 16);
    while (true) {
      const ssize_t r = ::read(fd, rest.data(), rest.size());
      if (r == 0 || (r < 0 && errno != EINTR)) break;
    }
  } catch (...) {
    error = std::current_exception();
  }
  ::close(fd);  // after an error, the decompressor then exits on SIGPIPE
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (error) std::rethrow_exception(error);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw FileError(
        fmt::format("{}: '{} -dc' failed (exit status {}): corrupt or truncated archive?", path,
                    tool, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
}

}  // namespace

void read_files(const std::filesystem::path& source, std::size_t batch_size,
                const std::function<void(std::vector<FileEntry>&)>& batch) {
  if (!fs::exists(source))
    throw FileError(fmt::format("{}: no such file or directory", source.string()));
  if (fs::is_directory(source)) {
    read_directory(source, batch_size, batch);
    return;
  }
  const std::string tool = decompressor(source);
  if (tool.empty())
    read_plain_tar(source, batch_size, batch);
  else
    read_compressed_tar(source, tool, batch_size, batch);
}

}  // namespace lsmss::dataset
