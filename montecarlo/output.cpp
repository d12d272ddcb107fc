#include "montecarlo/output.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/output_file.hpp"

namespace lsmss::mc {

namespace {

std::string num(double x, const char* f = "{:.10g}") {
  return std::isfinite(x) ? fmt::format(fmt::runtime(f), x) : "nan";
}

std::string composition_text(const McResult& r, const System& sys) {
  std::string s;
  for (std::size_t k = 0; k < r.counts.size(); ++k)
    s += fmt::format("{}{}", sys.species[k].symbol, r.counts[k]);
  return s;
}

// gnuplot string literal (single quotes: no escapes but '' for a quote).
std::string gp_str(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// JSON helpers: strings escaped per RFC 8259, non-finite numbers as null.
std::string js(const std::string& s) {
  std::string q = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      q += '\\';
      q += static_cast<char>(c);
    } else if (c < 0x20) {
      q += fmt::format("\\u{:04x}", c);
    } else {
      q += static_cast<char>(c);
    }
  }
  return q + "\"";
}
std::string jn(double x) {
  return std::isfinite(x) ? fmt::format("{:.17g}", x) : "null";
}
std::string jn_list(const std::vector<double>& v) {
  std::vector<std::string> t;
  t.reserve(v.size());
  for (double x : v) t.push_back(jn(x));
  return fmt::format("[{}]", fmt::join(t, ", "));
}

// <output>_thermo.tsv: one row per temperature, units in the header.
void write_thermo(const std::string& path, const McResult& r, const System& sys, double eref) {
  const int n = r.num_sites;
  const bool wl = r.method == "wang_landau";
  auto f = open_output_file(path);
  f << fmt::format("# lsms-surrogate mc ({}): {} on {}, composition {}\n", r.method, sys.name(),
                   sys.lattice.describe(), composition_text(r, sys));
  f << fmt::format("# energy source: {}\n", r.energy_source);
  f << "# energy_Ry: <E>, total energy of the cell (Ry); dE_mRy_per_site: (<E> - E_lowest) / N "
       "in mRy, E_lowest = lowest energy visited\n";
  f << fmt::format("# E_lowest = {} Ry, configuration {}\n", num(r.lowest_energy, "{:.10f}"),
                   r.lowest.to_string());
  f << "# heat capacity C/(N k_B) = var(E)/(N (k_B T)^2); alpha_s: Warren-Cowley SRO of "
       "neighbour shell s";
  for (std::size_t k = 0; k < r.shell_distances.size(); ++k)
    f << fmt::format("{} s={} at {:.4f} Bohr", k ? "," : ":", k + 1, r.shell_distances[k]);
  f << "\n";
  f << (wl ? "# Wang-Landau: no error bars (single density of states); free energy F = -k_B T "
             "ln Z (Ry), entropy S/(N k_B)\n"
           : "# errors: jackknife over blocks of sweeps (all chains of a temperature); C = mean "
             "of per-chain variances\n");
  if (r.fallback_enabled)
    f << "# fallbacks: proposals whose energy came from the DFT fallback; acquired: new DFT "
         "calculations appended to the dataset\n";
  std::vector<std::string> cols = {"T_K",
                                   "energy_Ry",
                                   "energy_err_Ry",
                                   "dE_mRy_per_site",
                                   "dE_err_mRy_per_site",
                                   "heat_capacity_kB_per_site",
                                   "heat_capacity_err",
                                   "acceptance"};
  for (const auto& a : r.sro_names) cols.push_back(a);
  for (const auto& a : r.sro_names) cols.push_back(a + "_err");
  for (const char* c : {"free_energy_Ry", "entropy_kB_per_site", "fallbacks", "acquired", "failed",
                        "samples", "chains"})
    cols.emplace_back(c);
  f << fmt::format("{}\n", fmt::join(cols, "\t"));
  for (const auto& t : r.rows) {
    std::vector<std::string> v = {num(t.temperature),
                                  num(t.energy, "{:.10f}"),
                                  num(t.energy_err, "{:.4e}"),
                                  num(1000.0 * (t.energy - eref) / n, "{:.6f}"),
                                  num(1000.0 * t.energy_err / n, "{:.4e}"),
                                  num(t.heat_capacity, "{:.6g}"),
                                  num(t.heat_capacity_err, "{:.4e}"),
                                  num(t.acceptance, "{:.6f}")};
    for (std::size_t k = 0; k < r.sro_names.size(); ++k)
      v.push_back(num(k < t.sro.size() ? t.sro[k] : NAN, "{:.6f}"));
    for (std::size_t k = 0; k < r.sro_names.size(); ++k)
      v.push_back(num(k < t.sro_err.size() ? t.sro_err[k] : NAN, "{:.4e}"));
    v.push_back(num(t.free_energy, "{:.10f}"));
    v.push_back(num(t.entropy, "{:.6f}"));
    for (long x : {t.fallbacks, t.acquired, t.failed, t.samples, static_cast<long>(t.chains)})
      v.push_back(std::to_string(x));
    f << fmt::format("{}\n", fmt::join(v, "\t"));
  }
}

// <output>_dos.tsv (Wang-Landau): the visited energy bins.
void write_dos(const std::string& path, const McResult& r, const System& sys, double eref) {
  const int n = r.num_sites;
  auto f = open_output_file(path);
  f << fmt::format(
      "# lsms-surrogate mc (wang_landau): density of states of {} on {}, composition {}\n",
      sys.name(), sys.lattice.describe(), composition_text(r, sys));
  f << fmt::format(
      "# ln_g normalized so that sum over visited bins of g = number of "
      "configurations; final ln f = {:.3e} after {} reductions\n",
      r.ln_f, r.wl_iterations);
  std::vector<std::string> cols = {"bin",  "E_lo_Ry", "E_hi_Ry", "E_mean_Ry", "dE_mRy_per_site",
                                   "ln_g", "samples"};
  for (const auto& a : r.sro_names) cols.push_back(a);
  f << fmt::format("{}\n", fmt::join(cols, "\t"));
  for (std::size_t b = 0; b < r.dos.size(); ++b) {
    const DosBin& d = r.dos[b];
    if (!d.visited) continue;
    std::vector<std::string> v = {std::to_string(b),
                                  num(d.lo, "{:.10f}"),
                                  num(d.hi, "{:.10f}"),
                                  num(d.mean, "{:.10f}"),
                                  num(1000.0 * (d.mean - eref) / n, "{:.6f}"),
                                  num(d.ln_g, "{:.8f}"),
                                  std::to_string(d.samples)};
    for (std::size_t k = 0; k < r.sro_names.size(); ++k)
      v.push_back(num(k < d.sro.size() ? d.sro[k] : NAN, "{:.6f}"));
    f << fmt::format("{}\n", fmt::join(v, "\t"));
  }
}

// The gnuplot script out.script that draws out.plot from the .tsv files (terminal `term`).
void write_gnuplot_script(const OutputFiles& out, const McResult& r, const System& sys,
                          const std::string& term) {
  const bool wl = r.method == "wang_landau";
  auto g = open_output_file(out.script);
  const int nsro = static_cast<int>(r.sro_names.size());
  const int c_alpha = 9, c_alpha_err = 9 + nsro, c_fb = 9 + 2 * nsro + 2;
  const std::string data = gp_str(std::filesystem::path(out.thermo).filename().string());
  g << "# Written by lsms-surrogate mc; run from this folder: gnuplot "
    << std::filesystem::path(out.script).filename().string() << "\n";
  g << "set datafile separator tab\nset datafile columnheaders\nset datafile missing 'nan'\n";
  g << (term == "svg" ? "set terminal svg size 1200,900 dynamic font 'Sans,11'\n"
                      : fmt::format("set terminal {} size 1200,900 font 'Sans,10'\n", term));
  g << "set output " << gp_str(std::filesystem::path(out.plot).filename().string()) << "\n";
  std::string title =
      fmt::format("{} {} on {} ({}), {}", sys.name(), composition_text(r, sys),
                  sys.lattice.describe(), r.method == "metropolis" ? "Metropolis" : "Wang-Landau",
                  r.energy_source.substr(0, r.energy_source.find(" (")));
  if (r.fallback_enabled)
    title += fmt::format(", DFT fallbacks {} ({} new)", r.fallbacks, r.acquired);
  g << "set multiplot layout 2,2 title " << gp_str(title) << "\n";
  g << "set grid\nset key top left\nset xlabel 'T (K)'\n";
  const std::string style = wl ? "with linespoints pt 7 ps 0.6" : "with yerrorlines pt 7 ps 0.8";
  g << "set ylabel '<E> - E_{lowest} (mRy/site)'\n";
  g << "plot " << data << (wl ? " using 1:4 " : " using 1:4:5 ") << style << " title 'energy'\n";
  g << "set ylabel 'C / (N k_B)'\n";
  g << "plot " << data << (wl ? " using 1:6 " : " using 1:6:7 ") << style
    << " title 'heat capacity'\n";
  g << "set ylabel 'Warren-Cowley {/Symbol a}_s'\nset key top right\n";
  g << "plot ";
  for (int k = 0; k < nsro; ++k)
    g << (k ? ", " : "") << data
      << (wl ? fmt::format(" using 1:{} ", c_alpha + k)
             : fmt::format(" using 1:{}:{} ", c_alpha + k, c_alpha_err + k))
      << style << " title " << gp_str(r.sro_names[k]);
  g << "\n";
  if (wl) {
    g << "set xlabel 'E - E_{lowest} (mRy/site)'\nset ylabel 'ln g(E)'\nunset key\n";
    g << "plot " << gp_str(std::filesystem::path(out.dos).filename().string())
      << " using 5:6 with linespoints pt 7 ps 0.5\n";
  } else if (r.fallback_enabled) {
    g << "set ylabel 'DFT fallbacks'\nset key top right\n";
    g << "plot " << data
      << fmt::format(" using 1:{} with linespoints pt 7 title 'fallbacks', ", c_fb) << data
      << fmt::format(" using 1:{} with linespoints pt 5 title 'new DFT calculations'\n", c_fb + 1);
  } else {
    g << "set ylabel 'acceptance'\nunset key\n";
    g << "plot " << data << " using 1:8 with linespoints pt 7\n";
  }
  g << "unset multiplot\n";
}

}  // namespace

std::string results_json(const McResult& r, const System& sys) {
  const bool wl = r.method == "wang_landau";
  const double eref = std::isfinite(r.lowest_energy) ? r.lowest_energy : 0.0;
  std::string s = "{\n";
  s += "  \"program\": \"lsms-surrogate mc\",\n";
  s += fmt::format("  \"method\": {},\n", js(r.method));
  s += fmt::format("  \"system\": {},\n  \"lattice\": {},\n  \"sites\": {},\n", js(sys.name()),
                   js(sys.lattice.describe()), r.num_sites);
  std::vector<std::string> comp;
  for (std::size_t k = 0; k < r.counts.size(); ++k)
    comp.push_back(fmt::format("{}: {}", js(sys.species[k].symbol), r.counts[k]));
  s += fmt::format("  \"composition\": {{{}}},\n", fmt::join(comp, ", "));
  s += fmt::format("  \"energy_source\": {},\n", js(r.energy_source));
  s += "  \"units\": {\"temperature\": \"K\", \"energy\": \"Ry, total energy of the cell\", "
       "\"dE_per_site\": \"mRy per site, relative to lowest_energy\", \"heat_capacity\": \"k_B per "
       "site\", \"free_energy\": \"Ry\", \"entropy\": \"k_B per site\", \"sro\": \"dimensionless "
       "(Warren-Cowley alpha)\", \"shell_distances\": \"Bohr\", \"seconds\": \"s\"},\n";
  s += fmt::format("  \"lowest_energy\": {},\n  \"lowest_configuration\": {},\n",
                   jn(r.lowest_energy), js(r.lowest.to_string()));
  std::vector<std::string> names;
  for (const auto& a : r.sro_names) names.push_back(js(a));
  s += fmt::format("  \"sro_names\": [{}],\n  \"shell_distances\": {},\n", fmt::join(names, ", "),
                   jn_list(r.shell_distances));
  s += fmt::format(
      "  \"steps\": {},\n  \"seconds\": {},\n  \"steps_per_second\": {},\n  \"resumed\": {},\n",
      r.steps, jn(r.seconds), jn(r.seconds > 0 ? r.steps / r.seconds : NAN),
      r.resumed ? "true" : "false");
  s += fmt::format("  \"failed_evaluations\": {},\n", r.failed);
  s += fmt::format(
      "  \"fallback\": {{\"enabled\": {}, \"fallbacks\": {}, \"acquired\": {}, \"failed\": {}, "
      "\"dataset\": {}}},\n",
      r.fallback_enabled ? "true" : "false", r.fallbacks, r.acquired, r.fallback_failed,
      js(r.dataset));
  if (wl)
    s += fmt::format("  \"wang_landau\": {{\"ln_f\": {}, \"reductions\": {}, \"bins\": [",
                     jn(r.ln_f), r.wl_iterations);
  if (wl) {
    bool first = true;
    for (const DosBin& d : r.dos) {
      if (!d.visited) continue;
      s += fmt::format(
          "{}\n    {{\"energy_lo\": {}, \"energy_hi\": {}, \"energy_mean\": {}, \"ln_g\": {}, "
          "\"samples\": {}, \"sro\": {}}}",
          first ? "" : ",", jn(d.lo), jn(d.hi), jn(d.mean), jn(d.ln_g), d.samples, jn_list(d.sro));
      first = false;
    }
    s += "]},\n";
  }
  s += "  \"temperatures\": [";
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    const TemperatureResult& t = r.rows[k];
    s += fmt::format(
        "{}\n    {{\"temperature\": {}, \"energy\": {}, \"energy_err\": {}, \"dE_per_site\": {}, "
        "\"heat_capacity\": {}, \"heat_capacity_err\": {}, \"acceptance\": {}, \"sro\": {}, "
        "\"sro_err\": {}, \"free_energy\": {}, \"entropy\": {}, \"fallbacks\": {}, \"acquired\": "
        "{}, "
        "\"failed\": {}, \"samples\": {}, \"chains\": {}}}",
        k ? "," : "", jn(t.temperature), jn(t.energy), jn(t.energy_err),
        jn(1000.0 * (t.energy - eref) / r.num_sites), jn(t.heat_capacity), jn(t.heat_capacity_err),
        jn(t.acceptance), jn_list(t.sro), jn_list(t.sro_err), jn(t.free_energy), jn(t.entropy),
        t.fallbacks, t.acquired, t.failed, t.samples, t.chains);
  }
  s += "\n  ]\n}\n";
  return s;
}

OutputFiles write_outputs(const McResult& r, const Settings& s, const System& sys,
                          const Plotter* plotter) {
  OutputFiles out;
  const auto dir = std::filesystem::path(s.output).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  const bool wl = r.method == "wang_landau";
  // Energies relative to the lowest configuration visited, per site in mRy: readable axes.
  const double eref = std::isfinite(r.lowest_energy) ? r.lowest_energy : 0.0;

  out.thermo = s.output + "_thermo.tsv";
  write_thermo(out.thermo, r, sys, eref);
  if (wl) {
    out.dos = s.output + "_dos.tsv";
    write_dos(out.dos, r, sys, eref);
  }

  out.json = s.output + "_results.json";
  {
    auto f = open_output_file(out.json);
    f << results_json(r, sys);
  }

  if (!s.plot) {
    out.plot_message = "plotting disabled (montecarlo.plot = false)";
    return out;
  }
  const std::string term = plotter ? plotter->terminal() : "";
  if (term.empty()) {
    out.plot_message = plotter ? plotter->unavailable() : "no plotter given: no plot";
    out.plot_message += "; the data are in the .tsv files";
    return out;
  }
  out.script = s.output + ".gp";
  out.plot = s.output + (term == "svg" ? ".svg" : ".png");
  write_gnuplot_script(out, r, sys, term);
  out.plot_message = plotter->draw(out.script);
  if (!out.plot_message.empty()) out.plot.clear();
  return out;
}

std::string format_summary(const McResult& r, const System& sys) {
  std::string s;
  const bool wl = r.method == "wang_landau";
  s += fmt::format("Monte Carlo ({}) of {} on {}, composition {} ({} sites)\n",
                   wl ? "Wang-Landau" : "Metropolis", sys.name(), sys.lattice.describe(),
                   composition_text(r, sys), r.num_sites);
  s += fmt::format("energy source: {}\n", r.energy_source);
  s += fmt::format("{:>9} {:>18} {:>10} {:>12} {:>10} {:>7}", "T (K)", "<E> (Ry)", "err (Ry)",
                   "dE mRy/site", "C/(N kB)", "acc");
  for (const auto& a : r.sro_names) s += fmt::format(" {:>9}", a);
  if (wl) s += fmt::format(" {:>18} {:>9}", "F (Ry)", "S/(N kB)");
  if (r.fallback_enabled) s += fmt::format(" {:>9} {:>8}", "fallbacks", "new DFT");
  s += "\n";
  const double eref = std::isfinite(r.lowest_energy) ? r.lowest_energy : 0.0;
  for (const auto& t : r.rows) {
    s += fmt::format("{:>9.2f} {:>18.8f} {:>10} {:>12.4f} {:>10.4f} {:>7.3f}", t.temperature,
                     t.energy,
                     std::isfinite(t.energy_err) ? fmt::format("{:.2e}", t.energy_err) : "-",
                     1000.0 * (t.energy - eref) / r.num_sites, t.heat_capacity, t.acceptance);
    for (std::size_t k = 0; k < r.sro_names.size(); ++k)
      s += fmt::format(" {:>+9.4f}", k < t.sro.size() ? t.sro[k] : NAN);
    if (wl) s += fmt::format(" {:>18.8f} {:>9.4f}", t.free_energy, t.entropy);
    if (r.fallback_enabled) s += fmt::format(" {:>9} {:>8}", t.fallbacks, t.acquired);
    s += "\n";
  }
  if (wl)
    s += fmt::format(
        "density of states: {} visited bins, ln f = {:.2e} after {} reductions\n",
        std::count_if(r.dos.begin(), r.dos.end(), [](const DosBin& d) { return d.visited; }),
        r.ln_f, r.wl_iterations);
  s +=
      fmt::format("lowest energy visited: {:.10f} Ry  {}\n", r.lowest_energy, r.lowest.to_string());
  s += fmt::format("{} swap attempts in {:.2f} s ({:.3g} steps/s){}\n", r.steps, r.seconds,
                   r.seconds > 0 ? r.steps / r.seconds : 0.0, r.resumed ? " (resumed run)" : "");
  // Resumed runs count earlier sessions' time but only this session's DFT: no split then.
  if (r.fallback_calculations > 0 && !r.resumed && r.seconds > r.fallback_seconds)
    s += fmt::format(
        "  of which {:.2f} s in {} DFT fallback calculations ({:.3g} s each); without them "
        "{:.3g} steps/s\n",
        r.fallback_seconds, r.fallback_calculations, r.fallback_seconds / r.fallback_calculations,
        r.steps / (r.seconds - r.fallback_seconds));
  if (r.failed) s += fmt::format("failed evaluations (moves rejected): {}\n", r.failed);
  if (r.fallback_enabled)
    s += fmt::format(
        "DFT fallbacks: {} proposals answered by DFT, {} new DFT calculations appended "
        "to {}{}\n",
        r.fallbacks, r.acquired, r.dataset,
        r.fallback_failed ? fmt::format(" ({} failed)", r.fallback_failed) : "");
  return s;
}

}  // namespace lsmss::mc
