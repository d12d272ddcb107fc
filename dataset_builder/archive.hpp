#pragma once
// Reads many small files from a directory tree or a tar archive (plain, or compressed with xz,
// gzip, bzip2 or zstd: decompressed by the system tool through a pipe, read as a stream, never
// unpacked to disk), in batches so memory stays bounded.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace lsmss::dataset {

struct FileEntry {
  std::string name;  // path relative to the directory, or as stored in the archive
  std::string text;
};

// Calls `batch` with up to `batch_size` entries at a time (regular files only; hidden files,
// those whose name starts with '.', are skipped). Throws FileError for an unreadable source,
// a corrupt archive or a failing decompressor.
void read_files(const std::filesystem::path& source, std::size_t batch_size,
                const std::function<void(std::vector<FileEntry>&)>& batch);

// True when `source` is a file (an archive) rather than a directory.
bool is_archive(const std::filesystem::path& source);

}  // namespace lsmss::dataset
