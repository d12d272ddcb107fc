#pragma once
// What an HDF5 file holds, for listing files of any kind (`info` on files that are not
// datasets). Implemented in core/hdf5.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "core/hdf5.hpp"

namespace lsmss::h5 {

// What a file holds, for listing files of any kind: the root's attributes and every object below
// the root.
struct AttributeValue {
  enum class Kind { strings, ints, doubles, unreadable };  // unreadable: a type never written here
  std::string name;
  Kind kind = Kind::unreadable;
  std::vector<std::string> strings;  // the vector named by `kind` holds the value
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
};
struct ObjectEntry {
  std::string path;            // relative to the root, e.g. "model/fold_0/weights"
  bool is_dataset = false;     // else a group (or named type)
  std::vector<hsize_t> shape;  // datasets only
};
struct FileContents {
  std::vector<AttributeValue> root_attributes;  // in name order
  std::vector<ObjectEntry> objects;             // depth first, in name order
};
FileContents list_contents(const File& file);

}  // namespace lsmss::h5
