# Trains the capi tests' models with the CLI, as a user would: a 16-site CuAu dataset from the
# toy `pair` driver, a 3-fold ensemble predicting energy, charges and moments (model.h5), a
# single energy-only model (one.h5), and `lsms-surrogate predict` of configs.txt with each
# (pred.csv, pred_one.csv), which the C and Fortran programs must reproduce.
# Usage: cmake -DCLI=<lsms-surrogate> -DDIR=<output folder> -P make_model.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
set(system "system = { lattice = 'fcc', a = 7.2377, supercell = {2,2,1}, species = {'Cu','Au'} }
driver = 'pair'
pair = { onsite = {-1.0, -2.0}, v1 = {0.0, -0.01, 0.002}, v2 = {0.0, 0.003, 0.0},
         moments = {0.5, 0.1}, moment_coupling = 0.4 }
sampling = { cap = 6, seed = 17, folds = 3 }
dataset = { file = 'capi.h5' }
")
file(WRITE ${DIR}/capi.lua "${system}training = { tasks = {'energy', 'charge', 'moment'},
  architecture = { shared = {16}, task_specific = 8 }, epochs = 30, learning_rate = 3e-3,
  model = 'model.h5' }
")
file(WRITE ${DIR}/capi_energy.lua "${system}training = { tasks = {'energy'},
  architecture = { shared = {12} }, epochs = 30, learning_rate = 3e-3, folds = {1},
  model = 'one.h5' }
")
# Every composition, ordered and random-looking occupations.
file(WRITE ${DIR}/configs.txt "0000000000000000
1111111111111111
0101010101010101
0011001100110011
1000000000000000
0110100110010110
1110001011010001
0000111100001111
")

function(run)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=1 ${CLI} ${ARGN}
    WORKING_DIRECTORY ${DIR} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "lsms-surrogate ${ARGN} failed (${status}):\n${out}")
  endif()
endfunction()
run(build -q capi.lua)
run(train -q --no-evaluate capi.lua)
run(train -q --no-evaluate capi_energy.lua)
run(predict -m model.h5 configs.txt -o pred.csv)
run(predict -m one.h5 configs.txt -o pred_one.csv)
message(STATUS "capi models, predictions in ${DIR}")
