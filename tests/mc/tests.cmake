lsmss_add_test(test_mc
  SOURCES mc/test_sro_moves.cpp mc/test_energy.cpp mc/test_exact.cpp mc/test_checkpoint_settings.cpp
          mc/test_tb_validation.cpp mc/test_fallback.cpp mc/test_mc_cli.cpp
  LIBS lsmss_mc lsmss_drivers
  LABELS mc)
