lsmss_add_test(test_nn
  SOURCES nn/test_backends.cpp nn/test_model.cpp nn/test_cli_nn.cpp
  LIBS lsmss_nn
  LABELS nn)
