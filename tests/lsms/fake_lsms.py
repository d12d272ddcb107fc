#!/usr/bin/env python3
"""A stand-in for the LSMS executable, used only by tests of the `lsms` driver.

It checks the deck the way LSMS would fail on it (missing pos/evec/rsteps, Z != Zc+Zs+Zv,
numberOfMixQuantities, pot_in_type, potential files) and writes info_evec_out and k.out in
LSMS's formats. FAKE_LSMS_MODE selects the outcome: ok, unconverged, crash, hang, garbage.
"""
import os
import re
import sys
import time

mode = os.environ.get("FAKE_LSMS_MODE", "ok")
deck = open(sys.argv[1]).read()

def glob(name):
    m = re.search(r"^%s\s*=\s*(.+)$" % name, deck, re.M)
    if not m:
        sys.stderr.write("deck lacks %s\n" % name)
        sys.exit(2)
    return m.group(1).strip().strip('"')

num_atoms = int(glob("num_atoms"))
nscf = int(glob("nscf"))
tol = float(glob("rmsTolerance"))
pot_in_type = int(glob("pot_in_type"))
if int(glob("numberOfMixQuantities")) != 1 or "mixing_parameter" not in deck:
    sys.stderr.write("mixing misconfigured\n")
    sys.exit(2)
sites = re.findall(r"^site\[(\d+)\] = \{ atom = \"(\w+)\", Z = (\d+), Zc = (\d+), Zs = (\d+), Zv = (\d+),.*?"
                   r"rsteps = \{[^}]+\}, rad = 2, evec = \{[^}]+\}, pos = \{ ([-\d.e]+), ([-\d.e]+), ([-\d.e]+) \}",
                   deck, re.M | re.S)
if len(sites) != num_atoms:
    sys.stderr.write("expected %d complete site entries, found %d\n" % (num_atoms, len(sites)))
    sys.exit(2)
for s in sites:
    if int(s[2]) != int(s[3]) + int(s[4]) + int(s[5]):
        sys.stderr.write("Z != Zc+Zs+Zv for site %s\n" % s[0])
        sys.exit(2)
    if pot_in_type == 1 and not os.path.exists("%s.%d" % (glob("potential_file_in"), int(s[0]) - 1)):
        sys.stderr.write("missing potential file for site %s\n" % s[0])
        sys.exit(2)

if mode == "crash":
    sys.stderr.write("LSMS: fatal error in SCF loop (simulated)\n")
    sys.exit(3)
if mode == "hang":
    time.sleep(60)

zs = [int(s[2]) for s in sites]
# A toy energy: composition-linear term plus a small term in the order of the atoms.
energy = -1000.0 * sum(zs) - 0.001 * sum(1 for a, b in zip(zs, zs[1:]) if a != b)
iters = 3 if mode != "unconverged" else nscf
with open("k.out", "a") as k:
    for it in range(iters):
        rms = 10.0 ** (-2 - 3 * it) if mode != "unconverged" else 1e-2
        k.write("%4d %22.12f %14.12f %e %e\n" % (it, energy + rms, 0.7, rms, rms))
with open("info_evec_out", "w") as f:
    if mode == "garbage":
        f.write("not numbers at all\n")
    else:
        f.write("%.15f %.15f %.15f\n" % (energy, 1.5, 0.7))
        # Written in reverse site order, to exercise matching by position.
        for s in reversed(sites):
            z = int(s[2])
            idx = int(s[0]) - 1
            f.write(" %d %8d %22.15f %22.15f %22.15f %12.6f %12.6f 0 0 1 -1.00 0 0 0 0.0000 0 0 1\n"
                    % (z, idx, float(s[6]), float(s[7]), float(s[8]), z + 0.01 * (idx % 2), 0.1 * z / 26))
print("LSMS Runtime = 0.01 sec")
