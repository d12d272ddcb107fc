# Dataset builder: sampling, builder (in-process, FakeDriver), importer.
lsmss_add_test(test_dataset_builder
  SOURCES dataset_builder/test_sampling.cpp dataset_builder/test_builder.cpp
          dataset_builder/test_import.cpp dataset_builder/test_configuration_inputs.cpp
          dataset_builder/test_predictions_file.cpp
  LIBS lsmss_dataset_builder lsmss_lsms_plugin
  LABELS dataset_builder)
# The `build` / `import` / `info` commands end to end: MPI runs against serial, SIGKILL and
# resume, the real archives.
lsmss_add_test(test_dataset_builder_cli
  SOURCES dataset_builder/test_dataset_cli.cpp
  LIBS lsmss_dataset_builder
  LABELS dataset_builder)
