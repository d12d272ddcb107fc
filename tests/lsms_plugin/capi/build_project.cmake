# Configures and builds an outside CMake project against the installed LSMS-Surrogate package
# (find_package(LSMSSurrogate) with CMAKE_PREFIX_PATH = the install prefix), as a downstream
# user would. Usage: cmake -DSOURCE=<project> -DBUILD=<build dir> -DPREFIX=<install prefix>
#   -DGENERATOR=<generator> [-DEXTRA=<;-list of -D options>] -P build_project.cmake
file(REMOVE_RECURSE ${BUILD})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${BUILD} -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release ${EXTRA}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "configuring ${SOURCE} failed:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "building ${SOURCE} failed:\n${out}")
endif()
message(STATUS "built ${SOURCE} in ${BUILD}")
