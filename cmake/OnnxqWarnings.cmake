# Warnings every onnxq target is built with; the code stays clean under them.
# GCC 12 warns about designated initializers that leave defaulted members out
# ({.external_data = ...}), which is how options structs are meant to be filled, and
# -Wrestrict misfires inside std::string concatenation at -O2 (GCC bug 105329).
function(onnxq_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers -Wno-restrict)
endfunction()
