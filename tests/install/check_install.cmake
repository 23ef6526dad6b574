# Installs the build into a scratch prefix, then configures, builds and runs the consumer
# project against it with find_package(onnxq).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${ONNXQ_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
foreach(f bin/onnxq include/onnxq/model.hpp include/onnxq/version.hpp lib/cmake/onnxq/onnxqConfig.cmake)
  if(NOT EXISTS ${WORK_DIR}/prefix/${f})
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer ${WORK_DIR}/model.onnx)
message(STATUS "${LAST_OUTPUT}")
if(NOT LAST_OUTPUT MATCHES "parameters 12")
  message(FATAL_ERROR "consumer printed: ${LAST_OUTPUT}")
endif()
