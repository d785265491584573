package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// completionCmd is "desync completion bash|zsh|fish": a shell completion
// script made from the command tree, so it names every command and flag
// there is and never drifts from them.
func (a *app) completionCmd() *command {
	c := a.newCommand(commandSpec{
		name:    "completion",
		usage:   "desync completion bash|zsh|fish",
		minArgs: 1,
		maxArgs: 1,
		short:   "print a shell completion script",
		long: `Prints a script that completes desync's commands and flags in bash, zsh or
fish; file names are completed where an argument is expected. Load it in the
current shell, or install it where the shell looks for completions.

Example:
  source <(desync completion bash)
  desync completion bash > /usr/share/bash-completion/completions/desync
  desync completion zsh > "${fpath[1]}/_desync"
  desync completion fish > ~/.config/fish/completions/desync.fish`,
	})
	c.Exec = func(_ context.Context, args []string) error {
		write, ok := map[string]func(io.Writer, *ffcli.Command){
			"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion,
		}[args[0]]
		if !ok {
			return usageErr("completion: unknown shell %q; want bash, zsh or fish", args[0])
		}
		write(a.io.Out, a.root)
		return nil
	}
	return c
}

// flagWords returns the flags of c as typed, aliases included.
func flagWords(c *ffcli.Command) []string {
	var words []string
	for _, g := range flagGroups(c.FlagSet) {
		words = append(words, g.dashed()...)
	}
	return words
}

// valueFlags returns the flags of c that take a value, as typed.
func valueFlags(c *ffcli.Command) []string {
	var words []string
	for _, g := range flagGroups(c.FlagSet) {
		if g.takesValue() {
			words = append(words, g.dashed()...)
		}
	}
	return words
}

func bashCompletion(w io.Writer, root *ffcli.Command) {
	var names []string
	for _, c := range root.Subcommands {
		names = append(names, c.Name)
	}
	fmt.Fprintf(w, `# bash completion for desync, made by "desync completion bash"
_desync() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd="" i skip=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ -n $skip ]]; then skip=""; continue; fi
		case ${COMP_WORDS[i]} in
		%s) skip=1 ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	local words values
	case $cmd in
`, strings.Join(valueFlags(root), "|"))
	fmt.Fprintf(w, "\t\"\") words=%q; values=%q ;;\n",
		strings.Join(append(names, flagWords(root)...), " "), strings.Join(valueFlags(root), " "))
	for _, c := range root.Subcommands {
		fmt.Fprintf(w, "\t%s) words=%q; values=%q ;;\n", c.Name,
			strings.Join(flagWords(c), " "), strings.Join(valueFlags(c), " "))
	}
	fmt.Fprint(w, `	esac
	if [[ $prev == --digest ]]; then
		COMPREPLY=($(compgen -W "sha512-256 sha256" -- "$cur"))
	elif [[ " $values " == *" $prev "* ]]; then
		COMPREPLY=()
	elif [[ $cur == -* || -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	elif [[ $cmd == help ]]; then
		COMPREPLY=($(compgen -W "`+strings.Join(names, " ")+`" -- "$cur"))
	else
		COMPREPLY=()
	fi
}
complete -o default -o bashdefault -F _desync desync
`)
}

// zshQuote escapes a flag's help for an _arguments spec ("--x[help]").
func zshQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `:`, `\:`, `'`, `'\''`).Replace(s)
	return strings.SplitN(s, "\n", 2)[0]
}

func zshCompletion(w io.Writer, root *ffcli.Command) {
	fmt.Fprint(w, "#compdef desync\n# zsh completion for desync, made by \"desync completion zsh\"\n\n")
	fmt.Fprint(w, "_desync() {\n\tlocal -a commands\n\tcommands=(\n")
	for _, c := range root.Subcommands {
		fmt.Fprintf(w, "\t\t'%s:%s'\n", c.Name, zshQuote(c.ShortHelp))
	}
	fmt.Fprint(w, "\t)\n\tlocal curcontext=$curcontext state line\n\t_arguments -C \\\n")
	writeZshFlags(w, root)
	fmt.Fprint(w, "\t\t'1: :->command' \\\n\t\t'*:: :->args'\n")
	fmt.Fprint(w, "\tcase $state in\n\tcommand) _describe -t commands 'desync command' commands ;;\n\targs)\n\t\tcase $line[1] in\n")
	for _, c := range root.Subcommands {
		fmt.Fprintf(w, "\t\t%s) _arguments \\\n", c.Name)
		writeZshFlags(w, c)
		fmt.Fprint(w, "\t\t\t'*:file:_files' ;;\n")
	}
	fmt.Fprint(w, "\t\tesac ;;\n\tesac\n}\n\n_desync \"$@\"\n")
}

func writeZshFlags(w io.Writer, c *ffcli.Command) {
	for _, g := range flagGroups(c.FlagSet) {
		arg := ""
		if g.takesValue() {
			arg = ":value:_files"
		}
		help := zshQuote(g.f.Usage)
		names := g.dashed()
		if len(names) == 1 {
			fmt.Fprintf(w, "\t\t\t'%s[%s]%s' \\\n", names[0], help, arg)
			continue
		}
		fmt.Fprintf(w, "\t\t\t'(%s)'{%s}'[%s]%s' \\\n", strings.Join(names, " "), strings.Join(names, ","), help, arg)
	}
}

// fishQuote quotes s for fish, in single quotes.
func fishQuote(s string) string {
	s = strings.SplitN(s, "\n", 2)[0]
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishCompletion(w io.Writer, root *ffcli.Command) {
	fmt.Fprint(w, "# fish completion for desync, made by \"desync completion fish\"\n")
	fmt.Fprint(w, "complete -c desync -f\n")
	writeFishFlags(w, root, "")
	for _, c := range root.Subcommands {
		fmt.Fprintf(w, "complete -c desync -n __fish_use_subcommand -a %s -d %s\n", c.Name, fishQuote(c.ShortHelp))
	}
	for _, c := range root.Subcommands {
		cond := "__fish_seen_subcommand_from " + c.Name
		fmt.Fprintf(w, "complete -c desync -n '%s' -F\n", cond)
		writeFishFlags(w, c, cond)
	}
}

func writeFishFlags(w io.Writer, c *ffcli.Command, cond string) {
	for _, g := range flagGroups(c.FlagSet) {
		var b strings.Builder
		b.WriteString("complete -c desync")
		if cond != "" {
			fmt.Fprintf(&b, " -n '%s'", cond)
		}
		for _, n := range g.names {
			if len(n) == 1 {
				fmt.Fprintf(&b, " -s %s", n)
			} else {
				fmt.Fprintf(&b, " -l %s", n)
			}
		}
		if g.takesValue() {
			b.WriteString(" -r")
		}
		fmt.Fprintf(&b, " -d %s\n", fishQuote(g.f.Usage))
		io.WriteString(w, b.String())
	}
}
