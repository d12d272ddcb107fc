#pragma once
// Lua input decks. A deck is a Lua 5.4 script run in a sandbox; the globals it defines become
// a tree of tables that the stages read through typed accessors. Every accessor records the
// keys it was asked for, so finish() can reject unknown keys (with the closest valid name),
// and every error names the deck file, the full key path and what was expected.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace lsmss {

struct DeckOptions {
  bool allow_io = false;  // expose os, io and require to the deck (off: sandboxed)
  // Budgets of the Lua script, so that no deck hangs or exhausts the machine (an endless loop
  // or a runaway table ends in a DeckError naming the file and line). A deck is a few hundred
  // lines of settings: these are orders of magnitude above what one needs.
  // Whether deck keys naming programs to run (lsms.executable, lsms.launcher) may differ from
  // their defaults. The library trusts its caller; the CLI sets it only with --allow-commands
  // or --allow-lua-io, so an untrusted deck cannot run arbitrary commands (docs/deck.md).
  bool allow_commands = true;
  long long instruction_limit = 200'000'000;          // Lua VM instructions
  std::size_t memory_limit = std::size_t{256} << 20;  // bytes the Lua state may hold
};

// One value of the deck tree.
struct DeckNode {
  enum class Type { boolean, number, string, table };
  Type type = Type::table;
  bool b = false;
  double num = 0.0;
  bool is_integer = false;
  long long integer = 0;  // the exact value when is_integer
  std::string str;
  std::map<std::string, std::shared_ptr<DeckNode>> fields;  // string keys
  std::vector<std::shared_ptr<DeckNode>> items;             // array part 1..n
  mutable std::map<std::string, bool> asked;                // keys a reader asked for
  std::string type_name() const;
};

class DeckTable {
 public:
  DeckTable() = default;
  DeckTable(std::shared_ptr<const DeckNode> node, std::string path,
            std::shared_ptr<const std::string> file);

  const std::string& path() const { return path_; }
  const std::string& file() const { return *file_; }
  std::string key_path(std::string_view key) const;
  bool present() const { return node_ != nullptr; }  // false for a table the deck does not have
  bool has(std::string_view key) const;
  bool is_string(std::string_view key) const;  // present and a string (keys taking either form)
  std::vector<std::string> keys() const;

  // Required values (error if absent) and values with defaults. Integers must be whole numbers.
  double number(std::string_view key) const;
  double number(std::string_view key, double def) const;
  double number_in(std::string_view key, double def, double lo, double hi) const;
  long integer(std::string_view key) const;
  long integer(std::string_view key, long def, long lo, long hi) const;
  bool boolean(std::string_view key, bool def) const;
  std::string string(std::string_view key) const;
  std::string string(std::string_view key, std::string_view def) const;
  // A string restricted to `choices` (error lists them).
  std::string choice(std::string_view key, std::string_view def,
                     const std::vector<std::string>& choices) const;
  std::vector<double> numbers(std::string_view key) const;
  std::vector<double> numbers(std::string_view key, const std::vector<double>& def) const;
  std::vector<long> integers(std::string_view key, std::vector<long> def) const;
  std::vector<std::string> strings(std::string_view key) const;
  std::vector<std::string> strings(std::string_view key, const std::vector<std::string>& def) const;
  // A sub-table; absent gives an empty table (present() == false) that still checks keys.
  DeckTable table(std::string_view key) const;
  // Array of sub-tables, e.g. { {..}, {..} }.
  std::vector<DeckTable> tables(std::string_view key) const;

  // Policy for keys that name programs to run (see DeckOptions::allow_commands): from a deck
  // not trusted with commands, a value that is not `harmless` (see harmless_program and
  // harmless_launcher) is a DeckError naming the key and the flag that permits it.
  // `what` says what the value would do (default: it names a program to run).
  void require_trust_unless(std::string_view key, bool harmless, std::string_view what = {}) const;

  // Declares keys as known without reading them (e.g. sections read by another stage).
  void allow(std::initializer_list<std::string_view> keys) const;
  // Error for every key present but never asked for, suggesting the closest known key.
  void finish() const;
  [[noreturn]] void error(std::string_view key, std::string_view what) const;

 private:
  const DeckNode* get(std::string_view key) const;
  const DeckNode* need(std::string_view key) const;
  std::shared_ptr<const DeckNode> node_;
  std::string path_;
  std::shared_ptr<const std::string> file_ = std::make_shared<const std::string>("<deck>");
  bool commands_trusted_ = true;  // DeckOptions::allow_commands, inherited by sub-tables
  friend class Deck;
};

class Deck {
 public:
  static Deck from_file(const std::filesystem::path& path, const DeckOptions& opts = {});
  static Deck from_string(std::string text, std::string name, const DeckOptions& opts = {});

  const DeckTable& root() const { return root_; }
  const std::string& text() const { return text_; }
  const std::string& file() const { return file_; }

 private:
  std::string text_;
  std::string file_;
  DeckTable root_;
};

// What an untrusted deck may still name (DeckOptions::allow_commands, docs/deck.md):
// a program among `known`, by bare name (found on PATH; no path, no arguments) ...
bool harmless_program(std::string_view name, std::initializer_list<std::string_view> known);
// ... and a launcher that is empty or a known MPI launcher (mpirun, mpiexec, srun, jsrun,
// aprun) by bare name followed only by plain flags (-n, --exclusive; no '=') and their numeric
// values or {ranks}: nothing in it can name another program.
bool harmless_launcher(const std::vector<std::string>& argv);
// Whether Lua text written into another program's deck (LSMS's energy_contour, xc_functional)
// is a plain table of numbers and name = number fields: no calls, strings or code.
bool harmless_lua_table(std::string_view text);
// Whether an environment variable name is one an untrusted deck may set for a launched program
// (MPI tuning OMPI_MCA_*, OpenMP OMP_*): never LD_*, PATH or anything that loads code.
bool harmless_environment_name(std::string_view name);

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace lsmss
