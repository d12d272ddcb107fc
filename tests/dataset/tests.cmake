# Dataset builder: sampling, info_evec parser, builder (in-process, FakeDriver), importer.
lsmss_add_test(test_dataset
  SOURCES dataset/test_sampling.cpp dataset/test_info_evec.cpp dataset/test_builder.cpp
          dataset/test_import.cpp
  LIBS lsmss_dataset lsmss_lsms
  LABELS dataset)
# The `build` / `import` / `info` commands end to end: MPI runs against serial, SIGKILL and
# resume, the real archives.
lsmss_add_test(test_dataset_cli
  SOURCES dataset/test_dataset_cli.cpp
  LIBS lsmss_dataset
  LABELS dataset)
