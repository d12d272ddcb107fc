# Backends against the reference oracle, standardization, training, model files, and the
# train/evaluate/predict commands end to end (import of LSMS files included).
lsmss_add_test(test_nn
  SOURCES nn/test_backends.cpp nn/test_model.cpp nn/test_cli_nn.cpp
  LIBS lsmss_nn lsmss_dataset lsmss_lsms OpenMP::OpenMP_CXX
  LABELS nn)
