#!/usr/bin/env python3
"""A stand-in for the LSMS executable, used only by unit tests of the `lsms` driver.

It checks the deck the way LSMS would fail on it (missing pos/evec/rsteps, Z != Zc+Zs+Zv,
numberOfMixQuantities, pot_in_type, potential files, use_voronoi/rmax/h_step) and behaves as
LSMS's SCF loop does: it stops when the charge rms (k.out column 4 for mtasa = 1, column 5 for
mtasa = 0) is below rmsTolerance and the relative energy change below energyTolerance, prints
"Writing new potentials and restart file." and writes w_<systemid>.<site> whenever the charge
rms is below rmsTolerance, and writes info_evec_out and k.out in LSMS's formats. It records the
environment variable names it got in env.txt. FAKE_LSMS_MODE selects the outcome:
ok, unconverged, crash, crash_mpi (an uncaught exception followed by launcher noise), hang
(also starts a grandchild in a process group of its own, pid in grandchild.pid), garbage,
potential_rms_high (charge rms converges, potential rms stays high), warmfail (fails when
started from potential files).
"""
import os
import re
import subprocess
import sys
import time

mode = os.environ.get("FAKE_LSMS_MODE", "ok")
deck = open(sys.argv[1]).read()
with open("env.txt", "w") as f:
    f.write("\n".join(sorted(os.environ.keys())) + "\n")

def glob(name):
    m = re.search(r"^%s\s*=\s*(.+)$" % name, deck, re.M)
    if not m:
        sys.stderr.write("deck lacks %s\n" % name)
        sys.exit(2)
    return m.group(1).strip().strip('"')

num_atoms = int(glob("num_atoms"))
nscf = int(glob("nscf"))
tol = float(glob("rmsTolerance"))
etol = float(glob("energyTolerance"))
mtasa = int(glob("mtasa"))
pot_in_type = int(glob("pot_in_type"))
pot_out = glob("potential_file_out")
for key in ("use_voronoi", "rmax", "h_step"):
    float(glob(key))
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
    if pot_in_type == 1:
        name = "%s.%d" % (glob("potential_file_in"), int(s[0]) - 1)
        if not os.path.exists(name):
            sys.stderr.write("missing potential file for site %s\n" % s[0])
            sys.exit(2)
        # A potential written by this stand-in names its Z: it must be the site's species.
        text = open(name).read()
        m = re.search(r"Z=(\d+)", text)
        if m and int(m.group(1)) != int(s[2]):
            sys.stderr.write("potential %s is for Z=%s, site %s has Z=%s\n" % (name, m.group(1), s[0], s[2]))
            sys.exit(2)

if mode == "crash":
    sys.stderr.write("LSMS: fatal error in SCF loop (simulated)\n")
    sys.exit(3)
if mode == "crash_mpi":
    sys.stderr.write("terminate called after throwing an instance of 'std::bad_array_new_length'\n")
    sys.stderr.write("  what():  std::bad_array_new_length\n")
    for k in range(30):
        sys.stderr.write("launcher noise line %d\n" % k)
    sys.exit(1)
if mode == "warmfail" and pot_in_type == 1:
    sys.stderr.write("cannot start from these potentials (simulated)\n")
    sys.exit(5)
if mode == "hang":
    child = subprocess.Popen(["sleep", "60"], preexec_fn=os.setpgrp)
    with open("grandchild.pid", "w") as f:
        f.write("%d\n" % child.pid)
    time.sleep(60)

zs = [int(s[2]) for s in sites]
# A toy energy: composition-linear term plus a small term in the order of the atoms.
energy = -1000.0 * sum(zs) - 0.001 * sum(1 for a, b in zip(zs, zs[1:]) if a != b)
# From potential files the charge rms starts two decades lower: fewer iterations.
start = 4 if pot_in_type == 1 else 2
old = 0.0
converged = False
with open("k.out", "a") as k:
    for it in range(nscf):
        qrms = 1e-2 if mode == "unconverged" else 10.0 ** (-start - it)
        vrms = 1e-1 if mode == "potential_rms_high" else qrms
        e = energy + qrms
        cols = (qrms, vrms) if mtasa == 1 else (0.1, qrms)
        k.write("%4d %22.12f %15.12f %12.6e %12.6e\n" % (it, e, 0.7, cols[0], cols[1]))
        rms_ok = qrms < tol
        energy_ok = etol <= 0 or abs((e - old) / e) < etol
        old = e
        if rms_ok:
            print("Writing new potentials and restart file.")
            for s in sites:
                with open("%s.%d" % (pot_out, int(s[0]) - 1), "w") as f:
                    f.write("fake potential Z=%s site=%d\n" % (s[2], int(s[0]) - 1))
        if rms_ok and energy_ok:
            converged = True
            break
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
