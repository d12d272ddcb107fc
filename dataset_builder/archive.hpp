#pragma once
// Reads many small files from a directory tree or a tar archive (plain, or compressed with xz,
// gzip, bzip2 or zstd: decompressed by the system tool through a pipe, read as a stream, never
// unpacked to disk), in batches so memory stays bounded.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace lsmss::dataset {

struct FileEntry {
  std::string name;  // path relative to the directory, or as stored in the archive; control
                     // characters escaped as \xNN (names reach terminals and reports)
  std::string text;
  std::string skip;  // not empty: not read, for this reason (reported, never silently dropped)
};

// Largest file read (an LSMS output is a few kB): a bigger one is reported, not read.
inline constexpr std::uintmax_t kMaxImportFileBytes = std::uintmax_t{64} << 20;

// Calls `batch` with up to `batch_size` entries at a time. Hidden files (name starting with
// '.') and directories are passed over; everything else is an entry: regular files with their
// text, and, with `skip` set, what is not read: symbolic links leading out of the source
// directory or nowhere (a loop), FIFOs, devices, sockets, archive links and special members,
// files above kMaxImportFileBytes. Throws FileError for an unreadable source, a corrupt archive
// or a failing decompressor.
void read_files(const std::filesystem::path& source, std::size_t batch_size,
                const std::function<void(std::vector<FileEntry>&)>& batch);

}  // namespace lsmss::dataset
