package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// manpageCmd is "desync manpage DIR": a man page for desync and one for
// each command, made from the command tree.
func (a *app) manpageCmd() *command {
	c := a.newCommand(commandSpec{
		name:    "manpage",
		usage:   "desync manpage [flags] <output-directory>",
		minArgs: 1,
		maxArgs: 1,
		short:   "write man pages for desync and each of its commands",
		long: `Writes desync.<section> and desync-<command>.<section> into the directory
(made if missing), from the same text as --help. The section defaults to 3,
as the original desync's does; packages install them with --section 1.

Example:
  desync manpage --section 1 /tmp/man && man -l /tmp/man/desync-make.1`,
	})
	section := c.FlagSet.String("section", "3", "manual section of the pages")
	title := c.FlagSet.String("title", "desync", "title of the pages (upper-cased in their header)")
	manual := c.FlagSet.String("manual", "", "name of the manual, in the center of the header")
	source := c.FlagSet.String("source", "", "source of the pages, at the left of the footer")
	c.Exec = func(_ context.Context, args []string) error {
		if *section == "" || strings.ContainsAny(*section, "/\\ \n") {
			return usageErr("manpage: --section %q is not a manual section", *section)
		}
		dir := args[0]
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		h := manHeader{title: *title, section: *section, manual: *manual, source: *source}
		pages := append([]*ffcli.Command{a.root}, a.root.Subcommands...)
		for _, p := range pages {
			name := "desync"
			if p != a.root {
				name += "-" + p.Name
			}
			path := filepath.Join(dir, name+"."+*section)
			if err := os.WriteFile(path, []byte(h.page(name, p, a.root)), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	return c
}

// manHeader is what every page's .TH line says.
type manHeader struct{ title, section, manual, source string }

// page renders the man page of c, named name, in roff.
func (h manHeader) page(name string, c, root *ffcli.Command) string {
	var b strings.Builder
	title := strings.ToUpper(h.title)
	if c != root {
		title += "-" + strings.ToUpper(c.Name)
	}
	fmt.Fprintf(&b, ".TH %s %s \"\" %s %s\n", roffArg(title), roffArg(h.section), roffArg(h.source), roffArg(h.manual))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffText(name), roffText(c.ShortHelp))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", roffText(c.ShortUsage))
	if c.LongHelp != "" {
		b.WriteString(".SH DESCRIPTION\n")
		b.WriteString(roffParagraphs(c.LongHelp))
	}
	if c == root {
		b.WriteString(".SH COMMANDS\n")
		for _, sc := range c.Subcommands {
			fmt.Fprintf(&b, ".TP\n.B %s\n%s (see \\fBdesync\\-%s\\fR(%s))\n", roffText(sc.Name), roffText(sc.ShortHelp), roffText(sc.Name), h.section)
		}
	}
	if groups := flagGroups(c.FlagSet); len(groups) > 0 {
		b.WriteString(".SH OPTIONS\n")
		for _, g := range groups {
			arg := ""
			if g.takesValue() {
				arg = " \\fIvalue\\fR"
			}
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR%s\n%s", roffText(strings.Join(g.dashed(), ", ")), arg, roffText(g.f.Usage))
			if g.f.DefValue != "" && g.f.DefValue != "false" {
				fmt.Fprintf(&b, " (default %s)", roffText(g.f.DefValue))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString(".SH SEE ALSO\n")
	if c == root {
		fmt.Fprintf(&b, "\\fBcasync\\fR(1)\n")
	} else {
		fmt.Fprintf(&b, "\\fBdesync\\fR(%s)\n", h.section)
	}
	return b.String()
}

// roffText escapes s for roff text: backslashes and dashes, and a line
// that would start with a control character.
func roffText(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffArg quotes s as an argument of a request such as .TH.
func roffArg(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}

// roffParagraphs renders help text: paragraphs become .PP, and indented
// lines (examples) are kept as they are, without filling.
func roffParagraphs(text string) string {
	var b strings.Builder
	inExample := false
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(para, "\n")
		b.WriteString(".PP\n")
		for _, l := range lines {
			indented := strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "\t")
			switch {
			case indented && !inExample:
				b.WriteString(".nf\n.RS 4\n")
				inExample = true
			case !indented && inExample:
				b.WriteString(".RE\n.fi\n")
				inExample = false
			}
			if indented {
				l = strings.TrimSpace(l)
			}
			b.WriteString(roffText(l) + "\n")
		}
		if inExample {
			b.WriteString(".RE\n.fi\n")
			inExample = false
		}
	}
	return b.String()
}
