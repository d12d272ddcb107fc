# The C API as outside programs use it (label capi): the `plugin` install component goes into a
# prefix inside the build tree; programs/ (a C test, and a Fortran test where a Fortran compiler
# exists) and examples/plugin are configured and built against it with find_package; they run
# on models trained here with the CLI and must reproduce `lsms-surrogate predict`.
include(CheckLanguage)
include(GNUInstallDirs)
check_language(Fortran)
set(capi_src ${CMAKE_CURRENT_LIST_DIR})
set(capi_dir ${CMAKE_BINARY_DIR}/tests/lsms_plugin/capi)
set(capi_prefix ${capi_dir}/prefix)
set(capi_model ${capi_dir}/model)
set(capi_extra -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER})
if(CMAKE_Fortran_COMPILER)
  list(APPEND capi_extra -DCMAKE_Fortran_COMPILER=${CMAKE_Fortran_COMPILER}
       -DCAPI_TEST_FORTRAN=ON)
else()
  message(WARNING "no Fortran compiler: the capi Fortran test is not built (install gfortran)")
endif()

add_test(NAME capi_install COMMAND ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR}
  --component plugin --prefix ${capi_prefix})
set_tests_properties(capi_install PROPERTIES FIXTURES_SETUP capi_installed)

add_test(NAME capi_model COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:lsms-surrogate>
  -DDIR=${capi_model} -P ${capi_src}/make_model.cmake)
set_tests_properties(capi_model PROPERTIES FIXTURES_SETUP capi_model)

add_test(NAME capi_exports COMMAND ${CMAKE_COMMAND}
  -DLIB=${capi_prefix}/${CMAKE_INSTALL_LIBDIR}/liblsms_surrogate.so
  -DHEADER=${capi_prefix}/${CMAKE_INSTALL_INCLUDEDIR}/lsms_surrogate.h
  -DSONAME=liblsms_surrogate.so.${LSMSS_CAPI_VERSION_MAJOR} -P ${capi_src}/check_exports.cmake)
set_tests_properties(capi_exports PROPERTIES FIXTURES_REQUIRED capi_installed)

add_test(NAME capi_build_programs COMMAND ${CMAKE_COMMAND} -DSOURCE=${capi_src}/programs
  -DBUILD=${capi_dir}/programs -DPREFIX=${capi_prefix} -DGENERATOR=${CMAKE_GENERATOR}
  "-DEXTRA=${capi_extra}" -P ${capi_src}/build_project.cmake)
set_tests_properties(capi_build_programs PROPERTIES FIXTURES_REQUIRED capi_installed
  FIXTURES_SETUP capi_programs)

add_test(NAME capi_c COMMAND ${capi_dir}/programs/capi_test_c ${capi_model})
set_tests_properties(capi_c PROPERTIES FIXTURES_REQUIRED "capi_programs;capi_model")
if(CMAKE_Fortran_COMPILER)
  add_test(NAME capi_fortran COMMAND ${capi_dir}/programs/capi_test_f ${capi_model})
  set_tests_properties(capi_fortran PROPERTIES FIXTURES_REQUIRED "capi_programs;capi_model")
endif()

# pkg-config: a plain compiler command line finds header and library through the .pc file.
add_test(NAME capi_pkg_config COMMAND sh -c
  "PKG_CONFIG_PATH=${capi_prefix}/${CMAKE_INSTALL_LIBDIR}/pkgconfig && export PKG_CONFIG_PATH && \
${CMAKE_C_COMPILER} -std=c99 -Wall -Werror -pthread ${capi_src}/programs/capi_test.c -o ${capi_dir}/capi_test_pc \
$(pkg-config --cflags --libs lsms_surrogate) -lm && \
LD_LIBRARY_PATH=$(pkg-config --variable=libdir lsms_surrogate) ${capi_dir}/capi_test_pc --version")
set_tests_properties(capi_pkg_config PROPERTIES FIXTURES_REQUIRED capi_installed
  PASS_REGULAR_EXPRESSION "liblsms_surrogate ${LSMSS_CAPI_VERSION}")

# The downstream example (examples/plugin): its own project, built against the installed tree.
add_test(NAME capi_example_build COMMAND ${CMAKE_COMMAND}
  -DSOURCE=${CMAKE_SOURCE_DIR}/examples/plugin -DBUILD=${capi_dir}/example
  -DPREFIX=${capi_prefix} -DGENERATOR=${CMAKE_GENERATOR} "-DEXTRA=${capi_extra}"
  -P ${capi_src}/build_project.cmake)
set_tests_properties(capi_example_build PROPERTIES FIXTURES_REQUIRED capi_installed
  FIXTURES_SETUP capi_example)
# The 30-epoch test ensemble spreads by more than 0.05 Ry on about half the proposals: the DFT
# hook must be called.
add_test(NAME capi_example_run COMMAND sh -c "${capi_dir}/example/wang_landau_plugin \
${capi_model}/model.h5 --threshold 0.05 --steps 5000 --seed 3 > ${capi_dir}/example_run.txt && \
cat ${capi_dir}/example_run.txt && grep -q 'DFT hook called [1-9]' ${capi_dir}/example_run.txt")
set_tests_properties(capi_example_run PROPERTIES FIXTURES_REQUIRED "capi_example;capi_model")

get_property(capi_tests DIRECTORY PROPERTY TESTS)
list(FILTER capi_tests INCLUDE REGEX "^capi_")
set_tests_properties(${capi_tests} PROPERTIES LABELS capi)
