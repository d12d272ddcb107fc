#include "drivers/tb/tb_parameters.hpp"

#include <cmath>

#include <fmt/ranges.h>

#include "core/deck.hpp"
#include "core/error.hpp"

namespace lsmss::tb {
namespace {
// A required number inside [lo, hi].
double required(const DeckTable& t, std::string_view key, double lo, double hi) {
  const double v = t.number(key);
  if (!(v >= lo && v <= hi)) t.error(key, fmt::format("must lie in [{}, {}], got {}", lo, hi, v));
  return v;
}
}  // namespace

TbParameters TbParameters::load(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw FileError(fmt::format("tight-binding parameter file '{}' does not exist", path.string()));
  const Deck deck = Deck::from_file(path);
  const DeckTable& root = deck.root();
  TbParameters p;
  p.file = path.string();

  const DeckTable scaling = root.table("scaling");
  p.exponent_ss = required(scaling, "ss", 0.5, 20.0);
  p.exponent_sp = required(scaling, "sp", 0.5, 20.0);
  p.exponent_sd = required(scaling, "sd", 0.5, 20.0);
  p.exponent_pp = required(scaling, "pp", 0.5, 20.0);
  p.exponent_pd = required(scaling, "pd", 0.5, 20.0);
  p.exponent_dd = required(scaling, "dd", 0.5, 20.0);
  p.exponent_repulsion = required(scaling, "repulsion", 1.0, 30.0);
  scaling.finish();

  const DeckTable elements = root.table("elements");
  if (!elements.present()) root.error("elements", "the parameter file has no `elements` table");
  for (const std::string& sym : elements.keys()) {
    const DeckTable t = elements.table(sym);
    ElementParameters e;
    e.symbol = sym;
    const std::string structure = t.string("structure");
    if (structure != "fcc" && structure != "bcc")
      t.error("structure", fmt::format("'{}' is not one of: fcc, bcc", structure));
    e.structure = lattice_kind_from_name(structure);
    e.a = required(t, "a", 1.0, 20.0);
    e.r1 = e.structure == LatticeKind::fcc ? e.a / std::sqrt(2.0) : e.a * std::sqrt(3.0) / 2.0;
    e.e_s = required(t, "e_s", -5.0, 5.0);
    e.e_p = required(t, "e_p", -5.0, 5.0);
    e.e_t2g = required(t, "e_t2g", -5.0, 5.0);
    e.e_eg = required(t, "e_eg", -5.0, 5.0);
    e.ss_sigma = required(t, "ss_sigma", -1.0, 0.0);
    e.sp_sigma = required(t, "sp_sigma", 0.0, 1.0);
    e.sd_sigma = required(t, "sd_sigma", -1.0, 0.0);
    e.pp_sigma = required(t, "pp_sigma", 0.0, 1.0);
    e.pp_pi = required(t, "pp_pi", -1.0, 1.0);
    e.pd_sigma = required(t, "pd_sigma", -1.0, 0.0);
    e.pd_pi = required(t, "pd_pi", 0.0, 1.0);
    e.dd_sigma = required(t, "dd_sigma", -1.0, 0.0);
    e.dd_pi = required(t, "dd_pi", 0.0, 1.0);
    e.dd_delta = required(t, "dd_delta", -1.0, 1.0);
    e.stoner_i = required(t, "stoner_i", 0.0, 5.0) / kRydbergEV;
    e.hubbard_u = required(t, "hubbard_u", 0.0, 20.0) / kRydbergEV;
    e.work_function = required(t, "work_function", 1.0, 10.0) / kRydbergEV;
    e.initial_moment = t.number_in("initial_moment", 0.0, 0.0, 5.0);
    t.finish();
    p.elements.emplace(sym, e);
  }
  elements.finish();
  root.finish();
  return p;
}

const ElementParameters& TbParameters::element(std::string_view symbol) const {
  auto it = elements.find(symbol);
  if (it == elements.end()) {
    std::vector<std::string> known;
    for (const auto& [k, _] : elements) known.push_back(k);
    fail("element '{}' has no tight-binding parameters in '{}' (available: {})", symbol, file,
         fmt::join(known, ", "));
  }
  return it->second;
}

}  // namespace lsmss::tb
