#!/bin/bash
# Help that teaches: every command's --help and `frugal help CMD` exit 0
# on stdout with every option its getopt table accepts described; misspelt
# commands and options get a suggestion; completion scripts load and
# complete job ids; man pages exist for every command.
. "$(dirname "$0")/lib.sh"

cmds=$(frugal __complete commands)
[ "$(echo "$cmds" | wc -l)" -ge 10 ] || fail "too few commands: $cmds"
for c in $cmds; do
	out=$(frugal help "$c") || fail "frugal help $c exited $?"
	echo "$out" | grep -q "^usage: frugal $c" || fail "frugal help $c: no usage line"
	out2=$(frugal "$c" --help 2>&1) || fail "frugal $c --help exited $?"
	[ "$out" = "$out2" ] || fail "frugal $c --help differs from frugal help $c"
	echo "$out" | grep -q "^Options:" || fail "frugal help $c: no options described"
	# Every long option of the command's own getopt table is in its help.
	src=$FRUGAL_SRC/src/cli/cmd_$c.c
	[ "$c" = sweep ] && src="$FRUGAL_SRC/src/cli/cmd_sweep.c"
	if [ -f "$src" ]; then
		for o in $(awk '/struct option opts\[\] = \{/,/\};/' "$src" |
			   sed -n 's/.*{ "\([a-z-]*\)".*/\1/p'); do
			echo "$out" | grep -q -- "--$o" || fail "frugal help $c does not describe --$o"
		done
	fi
done
n=$(echo "$cmds" | wc -l)
ok "$n commands: help on stdout, exit 0, every getopt option described"

# The launch options (sweep takes them too) are all in launch's help.
for o in $(awk '/struct option opts\[\] = \{/,/\};/' "$FRUGAL_SRC/src/cli/cmd_launch.c" |
	   sed -n 's/.*{ "\([a-z-]*\)".*/\1/p'); do
	frugal help launch | grep -q -- "--$o" || fail "launch help lacks --$o"
	frugal help sweep | grep -q -- "--$o" || [ "$o" = json ] || fail "sweep help lacks --$o"
done
frugal sweep status --help | grep -q -- "--sort" || fail "sweep status --help"
ok "launch and sweep options described"

err=$(frugal lauch 2>&1); rc=$?
[ $rc = 2 ] || fail "misspelt command exited $rc"
echo "$err" | grep -q "did you mean 'launch'" || fail "no suggestion: $err"
err=$(frugal launch --detatch x.yaml 2>&1); rc=$?
[ $rc = 2 ] || fail "misspelt option exited $rc"
echo "$err" | grep -q "did you mean '--detach'" || fail "no option suggestion: $err"
err=$(frugal help nosuch 2>&1) && fail "help of an unknown command succeeded"
ok "misspelt command and option suggested"

frugal help --man launch | grep -q '^\.TH FRUGAL\\-LAUNCH 1' || fail "man page of launch"
[ -f "$(dirname "$FRUGAL_BIN")/man/frugal-launch.1" ] || fail "build made no man page"
if command -v man >/dev/null; then
	prefix=$TMP/prefix
	cmake --install "$(dirname "$FRUGAL_BIN")" --prefix "$prefix" >/dev/null ||
		fail "make install failed"
	MANPATH=$prefix/share/man man -w frugal-launch >/dev/null || fail "man frugal-launch"
	MANPATH=$prefix/share/man man frugal-launch 2>/dev/null | grep -q -- "--detach" ||
		fail "man frugal-launch lacks --detach"
	ok "man frugal-launch works after install"
fi

# Completion: loads in bash, completes commands, options and job ids.
cat > "$TMP/task.yaml" <<'T'
name: comp
run: "true"
T
job=$(frugal launch -d "$TMP/task.yaml" 2>/dev/null | tail -1)
[ -n "$job" ] || fail "launch gave no id"
wait_terminal "$job" 60 >/dev/null
got=$(FRUGAL_BIN=$FRUGAL_BIN bash -c '
	frugal() { "$FRUGAL_BIN" "$@"; }
	source <("$FRUGAL_BIN" completion bash) || exit 1
	COMP_WORDS=(frugal lau); COMP_CWORD=1; _frugal; echo "${COMPREPLY[*]}"
	COMP_WORDS=(frugal launch --det); COMP_CWORD=2; _frugal; echo "${COMPREPLY[*]}"
	COMP_WORDS=(frugal status ""); COMP_CWORD=2; _frugal; echo "${COMPREPLY[*]}"')
echo "$got" | sed -n 1p | grep -qx launch || fail "command completion: $got"
echo "$got" | sed -n 2p | grep -qx -- --detach || fail "option completion: $got"
echo "$got" | sed -n 3p | grep -qw "$job" || fail "job id completion: $got"
frugal completion zsh | grep -q '^#compdef frugal' || fail "zsh completion"
frugal completion fish | grep -q 'complete -c frugal' || fail "fish completion"
if command -v zsh >/dev/null; then zsh -n <(frugal completion zsh) || fail "zsh syntax"; fi
if command -v fish >/dev/null; then frugal completion fish | fish -n || fail "fish syntax"; fi
ok "completion: bash loads and completes commands, options, job ids ($job)"
