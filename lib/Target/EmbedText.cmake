# Writes INPUT as a C++ raw string literal to OUTPUT.
file(READ ${INPUT} text)
file(WRITE ${OUTPUT} "R\"tfc_embedded(${text})tfc_embedded\"\n")
