#!/bin/sh
# lint.sh - the banned libc functions (STYLE.md 6). Exit 1 naming each use.
bad='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|sscanf|atoi|atol|strncpy|strncat|tmpnam|mktemp)\s*\('
if grep -nE "$bad" lib/*.c lib/*.h conf/*.c conf/*.h queue/*.c queue/*.h sendmail/*.c sendmail/*.h 2>/dev/null; then
	echo "lint: banned function used (see STYLE.md)" >&2
	exit 1
fi
echo "lint: ok"
