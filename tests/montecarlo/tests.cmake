lsmss_add_test(test_montecarlo
  SOURCES montecarlo/test_sro_moves.cpp montecarlo/test_energy.cpp montecarlo/test_exact.cpp
          montecarlo/test_checkpoint_settings.cpp montecarlo/test_tb_validation.cpp
          montecarlo/test_fallback.cpp montecarlo/test_mc_cli.cpp montecarlo/test_retrain_files.cpp
  LIBS lsmss_montecarlo lsmss_drivers
  LABELS montecarlo)
