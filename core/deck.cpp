#include "core/deck.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include <lua.hpp>

namespace lsmss {
namespace {

using NodePtr = std::shared_ptr<DeckNode>;

struct LuaCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};
using LuaState = std::unique_ptr<lua_State, LuaCloser>;

std::string key_join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

NodePtr convert(lua_State* L, int idx, const std::string& path, const std::string& file, int depth);

NodePtr convert_table(lua_State* L, int idx, const std::string& path, const std::string& file,
                      int depth) {
  if (depth > 32)
    throw DeckError(fmt::format("{}: key '{}': tables nested too deeply (cycle?)", file, path));
  auto node = std::make_shared<DeckNode>();
  node->type = DeckNode::Type::table;
  // Each nesting level pushes a key and a value: make room, or deep tables corrupt the stack.
  if (!lua_checkstack(L, 4))
    throw DeckError(fmt::format("{}: key '{}': out of Lua stack", file, path));
  idx = lua_absindex(L, idx);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
  for (lua_Integer k = 1; k <= n; ++k) {
    lua_rawgeti(L, idx, k);
    node->items.push_back(convert(L, -1, fmt::format("{}[{}]", path, k), file, depth + 1));
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      std::string key = lua_tostring(L, -2);
      node->fields[key] = convert(L, -1, key_join(path, key), file, depth + 1);
    } else if (lua_isinteger(L, -2)) {
      const lua_Integer k = lua_tointeger(L, -2);
      if (k < 1 || k > n)
        throw DeckError(
            fmt::format("{}: key '{}': index [{}] lies outside the array 1..{}", file, path, k, n));
    } else {
      throw DeckError(
          fmt::format("{}: key '{}': table keys must be names or array indices, got a {}", file,
                      path, luaL_typename(L, -2)));
    }
    lua_pop(L, 1);
  }
  return node;
}

NodePtr convert(lua_State* L, int idx, const std::string& path, const std::string& file,
                int depth) {
  auto node = std::make_shared<DeckNode>();
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      node->type = DeckNode::Type::boolean;
      node->b = lua_toboolean(L, idx);
      break;
    case LUA_TNUMBER:
      node->type = DeckNode::Type::number;
      node->is_integer = lua_isinteger(L, idx);
      node->num = lua_tonumber(L, idx);
      if (node->is_integer) {
        node->integer = lua_tointeger(L, idx);  // exact: a double cannot hold every int64
      } else if (std::floor(node->num) == node->num && std::isfinite(node->num) &&
                 std::abs(node->num) < 9.0e15) {
        node->is_integer = true;
        node->integer = static_cast<long long>(node->num);
      }
      break;
    case LUA_TSTRING:
      node->type = DeckNode::Type::string;
      node->str = lua_tostring(L, idx);
      break;
    case LUA_TTABLE:
      return convert_table(L, idx, path, file, depth);
    default:
      throw DeckError(
          fmt::format("{}: key '{}': a deck value must be a number, string, boolean or "
                      "table, got a {}",
                      file, path, luaL_typename(L, idx)));
  }
  return node;
}

// Message handler: one line, "file:line: message". An error raised inside a C function
// (e.g. a bad argument to string.rep) carries no position: the innermost Lua frame gives it.
int one_line_error(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  std::string text = msg ? msg : fmt::format("(error object is a {} value)", luaL_typename(L, 1));
  lua_Debug ar;
  for (int level = 0; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    if (text.rfind(ar.short_src, 0) != 0)
      text = fmt::format("{}:{}: {}", ar.short_src, ar.currentline, text);
    break;
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  lua_pushstring(L, text.c_str());
  return 1;
}

// Memory budget: an allocator that refuses to grow the state beyond the limit.
struct LuaBudget {
  std::size_t used = 0, limit = 0;
  long long instructions = 0, instruction_limit = 0;
};

void* budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* b = static_cast<LuaBudget*>(ud);
  const std::size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    b->used -= old;
    return nullptr;
  }
  if (nsize > old && b->used - old + nsize > b->limit) {
    return nullptr;  // Lua raises a memory error
  }
  void* p = std::realloc(ptr, nsize);
  if (p) b->used = b->used - old + nsize;
  return p;
}

constexpr int kHookEvery = 10000;  // instructions between two budget checks

void instruction_hook(lua_State* L, lua_Debug* /*ar*/) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  auto* b = static_cast<LuaBudget*>(ud);
  b->instructions += kHookEvery;
  if (b->instructions > b->instruction_limit) {
    // From now on every instruction fails, so a pcall in the deck cannot swallow the error
    // and loop on.
    lua_sethook(L, instruction_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "the deck ran more than %I Lua instructions (an endless loop?)",
               static_cast<lua_Integer>(b->instruction_limit));
  }
}

}  // namespace

std::string DeckNode::type_name() const {
  switch (type) {
    case Type::boolean:
      return "boolean";
    case Type::number:
      return is_integer ? "integer" : "number";
    case Type::string:
      return "string";
    case Type::table:
      return "table";
  }
  return "?";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1,
                         prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// ---------------------------------------------------------------------------------------------
DeckTable::DeckTable(std::shared_ptr<const DeckNode> node, std::string path,
                     std::shared_ptr<const std::string> file)
    : node_(std::move(node)), path_(std::move(path)), file_(std::move(file)) {}

std::string DeckTable::key_path(std::string_view key) const {
  return key_join(path_, key);
}

void DeckTable::error(std::string_view key, std::string_view what) const {
  throw DeckError(fmt::format("{}: key '{}': {}", *file_, key_path(key), what));
}

const DeckNode* DeckTable::get(std::string_view key) const {
  if (!node_) return nullptr;
  node_->asked[std::string(key)] = true;
  auto it = node_->fields.find(std::string(key));
  return it == node_->fields.end() ? nullptr : it->second.get();
}

const DeckNode* DeckTable::need(std::string_view key) const {
  const DeckNode* n = get(key);
  if (!n) error(key, "is required but missing");
  return n;
}

bool DeckTable::has(std::string_view key) const {
  return node_ && node_->fields.count(std::string(key)) > 0;
}

bool DeckTable::is_string(std::string_view key) const {
  if (!node_) return false;
  auto it = node_->fields.find(std::string(key));
  return it != node_->fields.end() && it->second->type == DeckNode::Type::string;
}

std::vector<std::string> DeckTable::keys() const {
  std::vector<std::string> k;
  if (node_)
    for (const auto& [name, _] : node_->fields) k.push_back(name);
  return k;
}

namespace {
double as_number(const DeckTable& t, std::string_view key, const DeckNode* n) {
  if (n->type != DeckNode::Type::number)
    t.error(key, fmt::format("expected a number, got a {}", n->type_name()));
  // No setting means infinity or NaN (1/0, 0/0, math.huge): reject them for every key.
  if (!std::isfinite(n->num)) t.error(key, fmt::format("must be a finite number, got {}", n->num));
  return n->num;
}
long as_integer(const DeckTable& t, std::string_view key, const DeckNode* n) {
  if (n->type != DeckNode::Type::number || !n->is_integer)
    t.error(key, fmt::format("expected an integer, got {} {}", n->type_name(),
                             n->type == DeckNode::Type::number ? fmt::format("{}", n->num) : ""));
  if (n->integer > std::numeric_limits<long>::max() ||
      n->integer < std::numeric_limits<long>::min())
    t.error(key, fmt::format("integer {} is out of range", n->integer));
  return static_cast<long>(n->integer);
}
std::string as_string(const DeckTable& t, std::string_view key, const DeckNode* n) {
  if (n->type != DeckNode::Type::string)
    t.error(key, fmt::format("expected a string, got a {}", n->type_name()));
  return n->str;
}
const DeckNode* as_array(const DeckTable& t, std::string_view key, const DeckNode* n) {
  if (n->type != DeckNode::Type::table || !n->fields.empty())
    t.error(key, fmt::format("expected a list like {{1, 2, 3}}, got a {}", n->type_name()));
  return n;
}
}  // namespace

double DeckTable::number(std::string_view key) const {
  return as_number(*this, key, need(key));
}
double DeckTable::number(std::string_view key, double def) const {
  const DeckNode* n = get(key);
  return n ? as_number(*this, key, n) : def;
}
double DeckTable::number_in(std::string_view key, double def, double lo, double hi) const {
  const double v = number(key, def);
  if (!(v >= lo && v <= hi)) error(key, fmt::format("must lie in [{}, {}], got {}", lo, hi, v));
  return v;
}
long DeckTable::integer(std::string_view key) const {
  return as_integer(*this, key, need(key));
}
long DeckTable::integer(std::string_view key, long def, long lo, long hi) const {
  const DeckNode* n = get(key);
  const long v = n ? as_integer(*this, key, n) : def;
  if (v < lo || v > hi) {
    if (hi == std::numeric_limits<long>::max())
      error(key, fmt::format("must be an integer >= {}, got {}", lo, v));
    error(key, fmt::format("must be an integer in [{}, {}], got {}", lo, hi, v));
  }
  return v;
}
bool DeckTable::boolean(std::string_view key, bool def) const {
  const DeckNode* n = get(key);
  if (!n) return def;
  if (n->type != DeckNode::Type::boolean)
    error(key, fmt::format("expected true or false, got a {}", n->type_name()));
  return n->b;
}
std::string DeckTable::string(std::string_view key) const {
  return as_string(*this, key, need(key));
}
std::string DeckTable::string(std::string_view key, std::string_view def) const {
  const DeckNode* n = get(key);
  return n ? as_string(*this, key, n) : std::string(def);
}
std::string DeckTable::choice(std::string_view key, std::string_view def,
                              const std::vector<std::string>& choices) const {
  std::string v = string(key, def);
  if (std::find(choices.begin(), choices.end(), v) == choices.end())
    error(key, fmt::format("'{}' is not one of: {}", v, fmt::join(choices, ", ")));
  return v;
}
std::vector<double> DeckTable::numbers(std::string_view key) const {
  const DeckNode* n = as_array(*this, key, need(key));
  std::vector<double> v;
  for (std::size_t i = 0; i < n->items.size(); ++i)
    v.push_back(as_number(*this, fmt::format("{}[{}]", key, i + 1), n->items[i].get()));
  return v;
}
std::vector<double> DeckTable::numbers(std::string_view key, const std::vector<double>& def) const {
  return has(key) ? numbers(key) : (get(key), def);
}
std::vector<long> DeckTable::integers(std::string_view key, std::vector<long> def) const {
  const DeckNode* n = get(key);
  if (!n) return def;
  as_array(*this, key, n);
  std::vector<long> v;
  for (std::size_t i = 0; i < n->items.size(); ++i)
    v.push_back(as_integer(*this, fmt::format("{}[{}]", key, i + 1), n->items[i].get()));
  return v;
}
std::vector<std::string> DeckTable::strings(std::string_view key) const {
  const DeckNode* n = as_array(*this, key, need(key));
  std::vector<std::string> v;
  for (std::size_t i = 0; i < n->items.size(); ++i)
    v.push_back(as_string(*this, fmt::format("{}[{}]", key, i + 1), n->items[i].get()));
  return v;
}
std::vector<std::string> DeckTable::strings(std::string_view key,
                                            const std::vector<std::string>& def) const {
  return has(key) ? strings(key) : (get(key), def);
}
DeckTable DeckTable::table(std::string_view key) const {
  const DeckNode* n = get(key);
  DeckTable sub(nullptr, key_path(key), file_);
  sub.commands_trusted_ = commands_trusted_;
  if (!n) return sub;
  if (n->type != DeckNode::Type::table)
    error(key, fmt::format("expected a table {{ ... }}, got a {}", n->type_name()));
  // Aliasing constructor: the sub-node lives as long as the root does.
  sub.node_ = std::shared_ptr<const DeckNode>(node_, n);
  return sub;
}
void DeckTable::require_trust_unless(std::string_view key, bool harmless,
                                     std::string_view what) const {
  if (commands_trusted_ || harmless) return;
  error(key, fmt::format("{}; a deck may do that only when you trust it to run commands: pass "
                         "--allow-commands (or --allow-lua-io) to lsms-surrogate",
                         what.empty() ? "names a program to run that is not on the built-in list "
                                        "(docs/deck.md)"
                                      : what));
}

bool harmless_lua_table(std::string_view text) {
  static const std::regex table(
      R"(\s*\{\s*(([A-Za-z_]\w*\s*=\s*)?[-+]?[0-9][0-9.eE+-]*\s*[,;]?\s*)*\}\s*)");
  return std::regex_match(text.begin(), text.end(), table);
}

bool harmless_environment_name(std::string_view name) {
  return name.starts_with("OMPI_MCA_") || name.starts_with("OMP_");
}

bool harmless_program(std::string_view name, std::initializer_list<std::string_view> known) {
  return std::find(known.begin(), known.end(), name) != known.end();
}

bool harmless_launcher(const std::vector<std::string>& argv) {
  if (argv.empty()) return true;
  if (!harmless_program(argv[0], {"mpirun", "mpiexec", "srun", "jsrun", "aprun"})) return false;
  auto flag = [](const std::string& a) {
    const std::size_t dashes = a.rfind("--", 0) == 0 ? 2 : a.rfind('-', 0) == 0 ? 1 : 0;
    if (dashes == 0 || a.size() == dashes) return false;
    return std::all_of(a.begin() + static_cast<long>(dashes), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    });
  };
  auto value = [](const std::string& a) {
    return a == "{ranks}" || (!a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
             return std::isdigit(static_cast<unsigned char>(c));
           }));
  };
  for (std::size_t i = 1; i < argv.size(); ++i)
    if (!flag(argv[i]) && !value(argv[i])) return false;
  return true;
}
std::vector<DeckTable> DeckTable::tables(std::string_view key) const {
  const DeckNode* n = get(key);
  std::vector<DeckTable> out;
  if (!n) return out;
  as_array(*this, key, n);
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    const DeckNode* item = n->items[i].get();
    const std::string p = fmt::format("{}[{}]", key_path(key), i + 1);
    if (item->type != DeckNode::Type::table)
      throw DeckError(
          fmt::format("{}: key '{}': expected a table, got a {}", *file_, p, item->type_name()));
    out.emplace_back(std::shared_ptr<const DeckNode>(node_, item), p, file_);
    out.back().commands_trusted_ = commands_trusted_;
  }
  return out;
}
void DeckTable::allow(std::initializer_list<std::string_view> keys) const {
  if (node_)
    for (auto k : keys) node_->asked[std::string(k)] = true;
}
void DeckTable::finish() const {
  if (!node_) return;
  if (!node_->items.empty() && !node_->asked.empty())
    throw DeckError(fmt::format("{}: key '{}': expected named keys, found a list of {} values",
                                *file_, path_.empty() ? "<globals>" : path_, node_->items.size()));
  for (const auto& [name, _] : node_->fields) {
    if (node_->asked.count(name)) continue;
    std::string best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    std::vector<std::string> known;
    for (const auto& entry : node_->asked) {
      const std::string& k = entry.first;
      known.push_back(k);
      const std::size_t d = edit_distance(name, k);
      if (d < best_d) best_d = d, best = k;
    }
    std::string hint;
    if (!best.empty() && best_d <= std::max<std::size_t>(2, name.size() / 3))
      hint = fmt::format(" (did you mean '{}'?)", best);
    throw DeckError(fmt::format("{}: unknown key '{}'{}; valid keys here: {}", *file_,
                                key_path(name), hint, fmt::join(known, ", ")));
  }
}

// ---------------------------------------------------------------------------------------------
Deck Deck::from_file(const std::filesystem::path& path, const DeckOptions& opts) {
  std::ifstream in(path);
  if (!in) throw DeckError(fmt::format("cannot open deck file '{}'", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_string(ss.str(), path.string(), opts);
}

Deck Deck::from_string(std::string text, std::string name, const DeckOptions& opts) {
  // Declared before the state: the state's allocator and hook use it until lua_close.
  LuaBudget budget;
  budget.limit = opts.memory_limit;
  budget.instruction_limit = opts.instruction_limit;
  LuaState state(lua_newstate(budget_alloc, &budget));
  if (!state) throw DeckError("cannot create a Lua state (out of memory)");
  lua_State* L = state.get();
  lua_sethook(L, instruction_hook, LUA_MASKCOUNT, kHookEvery);

  // Only the libraries a deck needs; io, os and require only on request.
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  if (opts.allow_io) {
    luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
    luaL_requiref(L, LUA_IOLIBNAME, luaopen_io, 1);
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 1);
  }
  lua_settop(L, 0);
  if (!opts.allow_io)
    for (const char* f : {"dofile", "loadfile", "load", "collectgarbage"}) {
      lua_pushnil(L);
      lua_setglobal(L, f);
    }

  // Names present before the deck runs are the environment, not the deck's.
  std::set<std::string> builtin;
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) builtin.insert(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  auto memory_error = [&] {
    return DeckError(fmt::format(
        "{}: the deck needs more than {} MiB of memory (Lua budget; a runaway table or string?)",
        name, opts.memory_limit >> 20));
  };
  lua_pushcfunction(L, one_line_error);
  // Text chunks only: binary chunks could bypass the sandbox.
  if (const int rc = luaL_loadbufferx(L, text.data(), text.size(), ("@" + name).c_str(), "t");
      rc != LUA_OK) {
    if (rc == LUA_ERRMEM) throw memory_error();
    throw DeckError(fmt::format("{}: deck syntax error: {}", name, lua_tostring(L, -1)));
  }
  if (const int rc = lua_pcall(L, 0, 0, 1); rc != LUA_OK) {
    if (rc == LUA_ERRMEM) throw memory_error();
    const char* msg = lua_tostring(L, -1);
    throw DeckError(fmt::format("error while running deck: {}", msg ? msg : "(no message)"));
  }
  // Converting the tables below runs no Lua code: the hook is no longer needed.
  lua_sethook(L, nullptr, 0, 0);

  auto root = std::make_shared<DeckNode>();
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      std::string key = lua_tostring(L, -2);
      const bool helper = lua_type(L, -1) == LUA_TFUNCTION;  // deck-local helper functions
      if (!builtin.count(key) && !helper) root->fields[key] = convert(L, -1, key, name, 0);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  Deck deck;
  deck.text_ = std::move(text);
  deck.file_ = name;
  deck.root_ = DeckTable(root, "", std::make_shared<const std::string>(name));
  deck.root_.commands_trusted_ = opts.allow_commands;
  return deck;
}

}  // namespace lsmss
