# The facts of every kind, from its schema, as C: one source for a kind's
# name, schema file, service, location rule, identity, refs, immutable,
# output-only, local and file fields (as Redis makes commands.def from its
# JSON).  CMakeLists.txt calls ccai_kind_facts() at configure time; editing
# a schema re-runs it.  Writes <out> (kinds/schema_facts.h, included by
# kinds/kind.h) defining, for each schemas/<Kind>.schema.json that has an
# "x-ccaictl" block:
#   CCAI_KIND_FACTS_<Kind>   designated initialisers of struct ccai_kind,
#                            used as CCAI_KIND_FACTS(<Kind>) in kinds/*.c
#   extern const struct ccai_kind ccai_kind_<snake_case_kind>;
# and CCAI_KIND_COUNT and CCAI_KIND_LIST, the kinds in the order of their
# "order" (the dependency order; kinds/registry.c makes ccai_kinds[] of it).
# A block that says something the C side could not hold (an unknown key, a
# value of the wrong type, a ref to no kind) stops the configuration.

# A C string literal: the values here are names and dotted paths only.
function(_ccai_kf_quote out value where)
  if(NOT value MATCHES "^[A-Za-z0-9_.:/-]+$")
    message(FATAL_ERROR "${where}: '${value}' is not a name or a dotted path")
  endif()
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

# Stops the configuration when the object json has a member whose name is
# not one of known (names joined by |).
function(_ccai_kf_known_keys json known where)
  string(JSON n LENGTH "${json}")
  set(i 0)
  while(i LESS n)
    string(JSON key MEMBER "${json}" ${i})
    if(NOT key MATCHES "^(${known})$")
      message(FATAL_ERROR "${where}: unknown key '${key}'")
    endif()
    math(EXPR i "${i} + 1")
  endwhile()
endfunction()

# The JSON type of json's member at the path ARGN ("" when there is none).
function(_ccai_kf_type out json)
  string(JSON t ERROR_VARIABLE e TYPE "${json}" ${ARGN})
  if(e)
    set(t "")
  endif()
  set(${out} "${t}" PARENT_SCOPE)
endfunction()

# An optional boolean member: true or false (false when absent).
function(_ccai_kf_bool out json key where)
  _ccai_kf_type(t "${json}" ${key})
  set(v false)
  if(t STREQUAL "BOOLEAN")
    string(JSON b GET "${json}" ${key})
    if(b)
      set(v true)
    endif()
  elseif(NOT t STREQUAL "")
    message(FATAL_ERROR "${where}.${key}: true or false, please")
  endif()
  set(${out} ${v} PARENT_SCOPE)
endfunction()

# A string or null member: the quoted string, or NULL.
function(_ccai_kf_string_or_null out json key where)
  _ccai_kf_type(t "${json}" ${key})
  if(t STREQUAL "NULL")
    set(${out} "NULL" PARENT_SCOPE)
  elseif(t STREQUAL "STRING")
    string(JSON v GET "${json}" ${key})
    _ccai_kf_quote(q "${v}" "${where}.${key}")
    set(${out} "${q}" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "${where}.${key}: a string or null, please")
  endif()
endfunction()

# A list of strings: a NULL-ended array (a compound literal).
function(_ccai_kf_list out json key where)
  _ccai_kf_type(t "${json}" ${key})
  if(NOT t STREQUAL "ARRAY")
    message(FATAL_ERROR "${where}.${key}: a list of field paths, please")
  endif()
  string(JSON n LENGTH "${json}" ${key})
  set(items "")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      _ccai_kf_type(it "${json}" ${key} ${i})
      if(NOT it STREQUAL "STRING")
        message(FATAL_ERROR "${where}.${key}[${i}]: a string, please")
      endif()
      string(JSON v GET "${json}" ${key} ${i})
      _ccai_kf_quote(q "${v}" "${where}.${key}[${i}]")
      string(APPEND items "${q}, ")
    endforeach()
  endif()
  set(${out} "(const char *const[]){ ${items}NULL }" PARENT_SCOPE)
endfunction()

# refs: {field: {kind, apiField[, list]}} -> a struct ccai_kind_ref array.
# The kinds they name go to <kinds_out> (checked once all are known).
function(_ccai_kf_refs out kinds_out json where)
  _ccai_kf_type(t "${json}" refs)
  if(NOT t STREQUAL "OBJECT")
    message(FATAL_ERROR "${where}.refs: an object {field: {kind, apiField[, list, sameLocation]}}, please")
  endif()
  string(JSON n LENGTH "${json}" refs)
  set(items "")
  set(kinds "")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON field MEMBER "${json}" refs ${i})
      set(w "${where}.refs.${field}")
      _ccai_kf_quote(qfield "${field}" "${w}")
      string(JSON ref GET "${json}" refs "${field}")
      string(JSON len ERROR_VARIABLE e LENGTH "${ref}")
      if(e)
        message(FATAL_ERROR "${w}: an object {kind, apiField[, list, sameLocation]}, please")
      endif()
      _ccai_kf_known_keys("${ref}" "kind|apiField|list|sameLocation" "${w}")
      _ccai_kf_string_or_null(qkind "${ref}" kind "${w}")
      _ccai_kf_string_or_null(qapi "${ref}" apiField "${w}")
      if(qkind STREQUAL "NULL" OR qapi STREQUAL "NULL")
        message(FATAL_ERROR "${w}: kind and apiField are required")
      endif()
      _ccai_kf_bool(list "${ref}" list "${w}")
      _ccai_kf_bool(same "${ref}" sameLocation "${w}")
      string(JSON target GET "${ref}" kind)
      list(APPEND kinds "${target}")
      string(APPEND items " \\\n\t\t{ .field = ${qfield}, .kind = ${qkind}, .api_field = ${qapi}, .list = ${list}, .same_location = ${same} },")
    endforeach()
  endif()
  set(${out} "(const struct ccai_kind_ref[]){${items} \\\n\t\t{ 0 } }" PARENT_SCOPE)
  set(${kinds_out} "${kinds}" PARENT_SCOPE)
endfunction()

function(ccai_kind_facts out)
  file(GLOB schemas CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/schemas/*.schema.json")
  list(SORT schemas)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${schemas} "${CMAKE_SOURCE_DIR}/cmake/kinds.cmake")
  set(body "")
  set(externs "")
  set(names "")
  set(targets "")
  set(ordered "")
  set(count 0)
  foreach(f IN LISTS schemas)
    file(READ "${f}" text)
    get_filename_component(file "${f}" NAME)
    string(JSON x ERROR_VARIABLE e GET "${text}" x-ccaictl)
    if(e)
      continue() # not a kind's schema (plan.schema.json)
    endif()
    set(w "${file}: x-ccaictl")
    string(JSON name ERROR_VARIABLE e GET "${text}" properties kind const)
    if(e OR NOT name MATCHES "^[A-Z][A-Za-z]+$")
      message(FATAL_ERROR "${file}: properties.kind.const names no kind")
    endif()
    if(NOT file STREQUAL "${name}.schema.json")
      message(FATAL_ERROR "${file}: the schema of kind ${name} is ${name}.schema.json")
    endif()
    _ccai_kf_known_keys("${x}"
      "service|discovery|identity|outputOnly|immutable|refs|local|files|order" "${w}")
    _ccai_kf_string_or_null(service "${x}" service "${w}")
    _ccai_kf_string_or_null(identity "${x}" identity "${w}")
    _ccai_kf_list(output_only "${x}" outputOnly "${w}")
    _ccai_kf_list(immutable "${x}" immutable "${w}")
    _ccai_kf_list(local "${x}" local "${w}")
    _ccai_kf_list(files "${x}" files "${w}")
    _ccai_kf_refs(refs ref_kinds "${x}" "${w}")
    list(APPEND targets ${ref_kinds})
    # order: the kind's place in the registry, after what it refers to
    _ccai_kf_type(ot "${x}" order)
    if(ot STREQUAL "NUMBER")
      string(JSON order GET "${x}" order)
    endif()
    if(NOT ot STREQUAL "NUMBER" OR NOT order MATCHES "^[0-9]+$" OR order GREATER 9999)
      message(FATAL_ERROR "${w}.order: a whole number under 10000, please")
    endif()
    set(order_of_${name} ${order})
    set(refs_of_${name} ${ref_kinds})
    # sorted as text below: 0042:Kind
    string(LENGTH "${order}" olen)
    string(SUBSTRING "000${order}" ${olen} 4 padded)
    list(APPEND ordered "${padded}:${name}")
    # located: the metadata has a location; its default is the kind's
    string(JSON mref ERROR_VARIABLE e GET "${text}" properties metadata $ref)
    if(e OR NOT mref STREQUAL "#/definitions/metadata")
      message(FATAL_ERROR "${file}: properties.metadata is not #/definitions/metadata")
    endif()
    _ccai_kf_type(lt "${text}" definitions metadata properties location)
    if(lt STREQUAL "")
      set(located false)
      set(default_location NULL)
    else()
      set(located true)
      _ccai_kf_string_or_null(default_location "${text}"
        "definitions;metadata;properties;location;default" "${file}")
      if(default_location STREQUAL "NULL")
        message(FATAL_ERROR "${file}: metadata.location has no default")
      endif()
    endif()
    string(REGEX REPLACE "([a-z0-9])([A-Z])" "\\1_\\2" snake "${name}")
    string(TOLOWER "${snake}" snake)
    list(APPEND names "${name}")
    string(APPEND externs "extern const struct ccai_kind ccai_kind_${snake};\n")
    string(APPEND body "
/* ${file} */
#define CCAI_KIND_FACTS_${name} \\
	.name = \"${name}\", \\
	.schema = \"${file}\", \\
	.service = ${service}, \\
	.located = ${located}, \\
	.default_location = ${default_location}, \\
	.identity = ${identity}, \\
	.refs = ${refs}, \\
	.immutable = ${immutable}, \\
	.output_only = ${output_only}, \\
	.local_fields = ${local}, \\
	.file_fields = ${files}
")
    math(EXPR count "${count} + 1")
  endforeach()
  foreach(t IN LISTS targets)
    if(NOT t IN_LIST names)
      message(FATAL_ERROR "schemas/: a ref points at kind '${t}', which has no schema")
    endif()
  endforeach()
  # the registry: by order, each after the kinds it refers to
  set(kind_list "")
  set(seen "")
  foreach(n IN LISTS names)
    foreach(t IN LISTS refs_of_${n})
      if(NOT ${order_of_${t}} LESS ${order_of_${n}})
        message(FATAL_ERROR "${n}.schema.json: x-ccaictl.order ${order_of_${n}} "
          "must be above ${t}'s (${order_of_${t}}): ${n} refers to it")
      endif()
    endforeach()
    foreach(m IN LISTS seen)
      if(${order_of_${m}} EQUAL ${order_of_${n}})
        message(FATAL_ERROR "${n}.schema.json: x-ccaictl.order ${order_of_${n}} "
          "is ${m}'s too")
      endif()
    endforeach()
    list(APPEND seen "${n}")
  endforeach()
  list(SORT ordered)
  foreach(o IN LISTS ordered)
    string(REGEX REPLACE "^[0-9]+:" "" kname "${o}")
    string(REGEX REPLACE "([a-z0-9])([A-Z])" "\\1_\\2" snake "${kname}")
    string(TOLOWER "${snake}" snake)
    string(APPEND kind_list " \\\n\t&ccai_kind_${snake},")
  endforeach()
  set(text "/*
 * schema_facts.h - generated by cmake/kinds.cmake from the x-ccaictl block
 * of each schemas/<Kind>.schema.json (and its metadata.location): do not
 * edit; edit the schema.  Included by kinds/kind.h.
 */
#ifndef CCAI_KINDS_SCHEMA_FACTS_H
#define CCAI_KINDS_SCHEMA_FACTS_H

/* Kinds with a schema; kinds/registry.c lists each of them once. */
#define CCAI_KIND_COUNT ${count}

/* Every kind, by x-ccaictl.order: the dependency order (kinds/registry.c). */
#define CCAI_KIND_LIST${kind_list}

${externs}${body}
#endif
")
  file(WRITE "${out}.tmp" "${text}")
  file(COPY_FILE "${out}.tmp" "${out}" ONLY_IF_DIFFERENT)
  file(REMOVE "${out}.tmp")
endfunction()
