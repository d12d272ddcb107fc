#include <gtest/gtest.h>

#include "core/hdf5.hpp"
#include "core/hdf5_listing.hpp"
#include "test_support.hpp"

using namespace lsmss;

TEST(Hdf5, AttributesAndDatasetsRoundTrip) {
  test::TempDir dir;
  const auto path = dir / "t.h5";
  {
    auto f = h5::File::create(path);
    h5::write_attr(f, "name", std::string("CuAu"));
    h5::write_attr(f, "a", 7.2377);
    h5::write_attr(f, "n", std::int64_t{32});
    h5::write_attr(f, "v", std::vector<double>{1, 2, 3});
    h5::write_attr(f, "s", std::vector<std::string>{"Cu", "Au"});
    h5::write<double>(f, "g/x", {1, 2, 3, 4, 5, 6}, {2, 3});
    h5::create_extendable<std::uint8_t>(f, "occ", 4, 16);
    h5::append_rows<std::uint8_t>(f, "occ", {0, 1, 0, 1}, 1);
    h5::append_rows<std::uint8_t>(f, "occ", {1, 1, 1, 1, 0, 0, 0, 0}, 2);
    h5::create_extendable<double>(f, "e", 0, 16);
    h5::append_rows<double>(f, "e", {-1.5, -2.5}, 2);
    f.flush();
  }
  auto f = h5::File::open(path);
  EXPECT_EQ(h5::read_attr_string(f, "name"), "CuAu");
  EXPECT_DOUBLE_EQ(h5::read_attr_double(f, "a"), 7.2377);
  EXPECT_EQ(h5::read_attr_int(f, "n"), 32);
  EXPECT_EQ(h5::read_attr_doubles(f, "v"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(h5::read_attr_strings(f, "s"), (std::vector<std::string>{"Cu", "Au"}));
  std::vector<hsize_t> shape;
  EXPECT_EQ(h5::read<double>(f, "g/x", &shape), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(shape, (std::vector<hsize_t>{2, 3}));
  EXPECT_EQ(h5::dims(f, "occ"), (std::vector<hsize_t>{3, 4}));
  EXPECT_EQ(h5::read_rows<std::uint8_t>(f, "occ", 1, 1), (std::vector<std::uint8_t>{1, 1, 1, 1}));
  EXPECT_EQ(h5::read<double>(f, "e"), (std::vector<double>{-1.5, -2.5}));
  EXPECT_TRUE(h5::exists(f, "g/x"));
  EXPECT_FALSE(h5::exists(f, "g/y/z"));
}

TEST(Hdf5, ClearErrorsForWrongFiles) {
  test::TempDir dir;
  auto text = dir.write("not.h5", "this is not hdf5");
  try {
    h5::File::open(text);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos);
  }
  EXPECT_THROW(h5::File::open(dir / "missing.h5"), FileError);
  {
    auto f = h5::File::create(dir / "x.h5");
    h5::write<double>(f, "d", {1.0});
  }
  auto f = h5::File::open(dir / "x.h5");
  try {
    h5::read<double>(f, "missing");
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("x.h5:/missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(h5::read_attr_string(f, "nope"), FileError);
  EXPECT_THROW(h5::read_rows<double>(f, "d", 0, 5), FileError);
}

// `info` on files that are not datasets lists the root's attributes and every object.
TEST(Hdf5, ListContentsGivesRootAttributesAndObjectsInNameOrder) {
  test::TempDir dir;
  const auto path = dir / "t.h5";
  {
    auto f = h5::File::create(path);
    h5::write_attr(f, "name", std::string("CuAu"));
    h5::write_attr(f, "n", std::vector<std::int64_t>{3, 4});
    h5::write_attr(f, "a", 7.25);
    h5::write<double>(f, "g/x", {1, 2, 3, 4, 5, 6}, {2, 3});
    h5::write<std::int32_t>(f, "b", {1});
  }
  using Kind = h5::AttributeValue::Kind;
  const h5::FileContents c = h5::list_contents(h5::File::open(path));
  ASSERT_EQ(c.root_attributes.size(), 3u);
  EXPECT_EQ(c.root_attributes[0].name, "a");
  EXPECT_EQ(c.root_attributes[0].kind, Kind::doubles);
  EXPECT_EQ(c.root_attributes[0].doubles, std::vector<double>{7.25});
  EXPECT_EQ(c.root_attributes[1].name, "n");
  EXPECT_EQ(c.root_attributes[1].kind, Kind::ints);
  EXPECT_EQ(c.root_attributes[1].ints, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(c.root_attributes[2].kind, Kind::strings);
  EXPECT_EQ(c.root_attributes[2].strings, std::vector<std::string>{"CuAu"});
  ASSERT_EQ(c.objects.size(), 3u);
  EXPECT_EQ(c.objects[0].path, "b");
  EXPECT_TRUE(c.objects[0].is_dataset);
  EXPECT_EQ(c.objects[1].path, "g");
  EXPECT_FALSE(c.objects[1].is_dataset);
  EXPECT_EQ(c.objects[2].path, "g/x");
  EXPECT_EQ(c.objects[2].shape, (std::vector<hsize_t>{2, 3}));
}
