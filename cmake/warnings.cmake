# Compiler warnings and sanitizers shared by every target.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wformat=2
                    -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter)
if(TCB_WERROR)
  add_compile_options(-Werror)
endif()
if(TCB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
if(TCB_FUZZ)
  # Coverage instrumentation for every library; fuzz binaries add -fsanitize=fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
