package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "completion", summary: "print a shell completion script (bash, zsh, fish)", run: runCompletion})
	register(&command{name: "__complete", run: runComplete})
}

// The completion scripts ask the binary itself (`dsim __complete WORDS…`)
// for candidates, so they stay right as commands, flags, bundled
// experiments and config paths change.
var completionScripts = map[string]string{
	"bash": `# bash completion for dsim; load with: source <(dsim completion bash)
_dsim() {
	local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n'
	local words=("${COMP_WORDS[@]:1:COMP_CWORD}")
	COMPREPLY=($(dsim __complete "${words[@]}" 2>/dev/null))
	if [[ $cur != -* ]]; then
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
}
complete -o filenames -F _dsim dsim
`,
	"zsh": `#compdef dsim
# zsh completion for dsim; load with: source <(dsim completion zsh)
_dsim() {
	local -a cands
	cands=("${(@f)$(dsim __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	compadd -S '' -- ${cands:#*[^=]} 
	compadd -- ${cands:#*=}
	[[ $words[CURRENT] != -* ]] && _files
}
compdef _dsim dsim
`,
	"fish": `# fish completion for dsim; load with: dsim completion fish | source
complete -c dsim -f -a '(dsim __complete (commandline -opc)[2..-1] (commandline -ct))'
complete -c dsim -F -n 'not string match -q -- "-*" (commandline -ct)'
`,
}

func runCompletion(c *cli, args []string) error {
	fs := c.newFlags("completion", "bash|zsh|fish",
		"Print a completion script for the shell: commands, flags, bundled\n"+
			"experiment names and --set paths. Load it with\n"+
			"  bash: source <(dsim completion bash)   (or save it to /etc/bash_completion.d/dsim)\n"+
			"  zsh:  source <(dsim completion zsh)    (or save it as _dsim in your $fpath)\n"+
			"  fish: dsim completion fish > ~/.config/fish/completions/dsim.fish")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one shell: bash, zsh or fish")
	}
	script, ok := completionScripts[pos[0]]
	if !ok {
		return usagef("no completion for shell %q%s", pos[0], experiments.Suggest(pos[0], []string{"bash", "zsh", "fish"}))
	}
	_, err = fmt.Fprint(c.stdout, script)
	return err
}

// runComplete prints the candidates for the last word of a command line
// (the words after "dsim"), one per line.
func runComplete(c *cli, args []string) error {
	for _, w := range complete(args) {
		fmt.Fprintln(c.stdout, w)
	}
	return nil
}

// complete returns the candidates for the last of words, filtered by it.
func complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var cands []string
	switch {
	case len(words) == 1:
		for n, cmd := range commands {
			if cmd.summary != "" {
				cands = append(cands, n)
			}
		}
	case len(words) >= 3 && words[len(words)-2] == "--set":
		cands = setCandidates(words[:len(words)-1])
	case strings.HasPrefix(cur, "-"):
		cands = flagNames(words[0])
	default:
		switch words[0] {
		case "run", "check", "validate", "examples":
			for _, ex := range experiments.Examples() {
				cands = append(cands, ex.Name)
			}
		case "help":
			cands = complete([]string{cur})
		case "completion":
			cands = []string{"bash", "fish", "zsh"}
		case "bench":
			cands = []string{"phold"}
		}
	}
	var out []string
	for _, w := range cands {
		if strings.HasPrefix(w, cur) {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// flagNames returns a command's flags as --name, read from its own help.
func flagNames(name string) []string {
	cmd, ok := commands[name]
	if !ok {
		return nil
	}
	var out bytes.Buffer
	sub := &cli{stdout: &out, stderr: &out, stdin: strings.NewReader("")}
	args := []string{"--help"}
	if name == "bench" {
		args = []string{"phold", "--help"}
	}
	if err := cmd.run(sub, args); err != nil && !errors.Is(err, flag.ErrHelp) {
		return nil // no help, no flags to offer
	}
	var flags []string
	for _, l := range strings.Split(out.String(), "\n") {
		if f, ok := strings.CutPrefix(l, "  --"); ok {
			flags = append(flags, "--"+strings.Fields(f)[0])
		}
	}
	return append(flags, "--help")
}

// setCandidates offers config paths for --set, for the protocol of the
// experiment named on the line when it can be read.
func setCandidates(words []string) []string {
	protocol := ""
	for _, w := range words[1:] {
		if strings.HasPrefix(w, "-") {
			continue
		}
		if _, ok := experiments.Example(w); ok {
			protocol = protocolOf(w)
			break
		}
		if st, err := os.Stat(w); err == nil && st.Mode().IsRegular() {
			protocol = protocolOf(w)
			break
		}
	}
	paths := experiments.SetPaths(protocol)
	for i, p := range paths {
		paths[i] = p + "="
	}
	return paths
}

// protocolOf returns the protocol name of an experiment, or "" when it
// does not load.
func protocolOf(source string) string {
	x, err := experiments.Load(source, experiments.Options{})
	if err != nil {
		return ""
	}
	return x.Config.Protocol.Name
}
