# Turns a list of files into a C source holding them as byte arrays.
#   cmake -DOUT=x.c -DSYMBOL=name -DBASE=dir -DFILES="a|b" -P embed.cmake
# The result defines `const struct ccai_embedded SYMBOL[]`, ended by an
# entry whose name is NULL, and keeps every file NUL-terminated so that
# text can be used as a C string.
string(REPLACE "|" ";" FILES "${FILES}")
set(body "#include \"util/embed.h\"\n\n")
set(table "")
set(i 0)
foreach(f IN LISTS FILES)
  file(READ "${f}" hex HEX)
  file(SIZE "${f}" size)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" hex "${hex}")
  file(RELATIVE_PATH rel "${BASE}" "${f}")
  string(APPEND body "static const unsigned char d${i}[] = {\n${hex}0x00};\n")
  string(APPEND table "\t{ \"${rel}\", (const char *)d${i}, ${size} },\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct ccai_embedded ${SYMBOL}[] = {\n${table}\t{ 0, 0, 0 }\n};\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
