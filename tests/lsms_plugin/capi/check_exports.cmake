# The installed shared library exports exactly the functions its header declares, nothing else,
# under its SONAME.
# Usage: cmake -DLIB=<installed .so> -DHEADER=<installed lsms_surrogate.h> -DSONAME=<expected>
#   -P check_exports.cmake
file(READ ${HEADER} text)
string(REGEX MATCHALL "LSMS_SURROGATE_API[^(]*[ *](lsms_surrogate_[A-Za-z_]+)\\(" decls "${text}")
set(declared "")
foreach(d ${decls})
  string(REGEX REPLACE ".*[ *](lsms_surrogate_[A-Za-z_]+)\\($" "\\1" name "${d}")
  list(APPEND declared ${name})
endforeach()
list(SORT declared)

execute_process(COMMAND nm -D --defined-only ${LIB} RESULT_VARIABLE status OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "nm -D ${LIB} failed: ${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(exported "")
foreach(line ${lines})
  if(line MATCHES " [A-Za-z] ([^ @]+)")
    set(symbol ${CMAKE_MATCH_1})
    if(NOT symbol STREQUAL "LSMS_SURROGATE_1")  # the version node of the version script
      list(APPEND exported ${symbol})
    endif()
  endif()
endforeach()
list(SORT exported)
if(NOT exported STREQUAL declared)
  message(FATAL_ERROR "${LIB} exports\n  ${exported}\nbut ${HEADER} declares\n  ${declared}")
endif()
list(LENGTH declared n)
execute_process(COMMAND objdump -p ${LIB} OUTPUT_VARIABLE dyn)
if(NOT dyn MATCHES "SONAME +${SONAME}\n")
  message(FATAL_ERROR "${LIB}: SONAME is not ${SONAME}:\n${dyn}")
endif()
message(STATUS "${LIB}: exports the ${n} functions of the header and nothing else; "
               "SONAME ${SONAME}")
