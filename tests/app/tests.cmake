# The command-line front end (app/): help, version, deck errors, check, calc. Each command's
# workflow end to end is tested with its library (tests/<module>/test_*_cli.cpp).
lsmss_add_test(test_app
  SOURCES app/test_cli.cpp
  LABELS app)
