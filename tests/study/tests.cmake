lsmss_add_test(test_study
  SOURCES study/test_study.cpp
  LIBS lsmss_study
  LABELS study)
