package script

import (
	"path/filepath"
	"strings"
)

// Word is one word of a command line, unquoted.
type Word struct {
	Text string
	// Command: the word is a program to run (first of a simple command).
	Command bool
	// Output: the word is a file written by a redirection (>, >>).
	Output bool
}

// optionValues are the options of a prefix that take the next word as
// their value (nice -n 5 cmd): that word is no command either.
var optionValues = map[string]map[string]bool{
	"nice": {"-n": true}, "env": {"-u": true, "-C": true},
}

// prefixes run the word after them as a command.
var prefixes = map[string]bool{
	"exec": true, "command": true, "nohup": true, "env": true, "nice": true, "time": true,
	"then": true, "do": true, "else": true, "elif": true, "if": true, "while": true,
	"until": true, "!": true, "{": true,
}

// ShellWords splits a /bin/sh command line into words as the shell would
// for the purpose of finding the files it runs: quotes ('...', "...",
// backslash) are removed; ; & | ( ) and newlines end a simple command, so
// the next word is a command; variable assignments before a command are
// skipped; the target of > or >> is marked Output, that of < is not (a
// file read by `sh < file` is code). Expansions ($x, globs) are left in
// the text; the checker skips such words.
func ShellWords(s string) []Word {
	var (
		words    []Word
		cur      strings.Builder
		inWord   bool
		command  = true
		redirect = 0    // 1: next word is written to, 2: read from
		prefix   string // the prefix command whose options may follow
		value    bool   // the next word is an option's value
	)
	flush := func() {
		if !inWord {
			return
		}
		t := cur.String()
		cur.Reset()
		inWord = false
		switch {
		case redirect != 0:
			words = append(words, Word{Text: t, Output: redirect == 1})
			redirect = 0
			return
		case command && isAssignment(t):
			return // FOO=bar cmd: cmd is the command
		case command && prefix != "" && (value || strings.HasPrefix(t, "-")):
			// nice -n 5 cmd, env -i cmd: options of the prefix.
			words = append(words, Word{Text: t})
			value = !value && optionValues[prefix][t]
			return
		}
		words = append(words, Word{Text: t, Command: command})
		command = command && prefixes[t]
		prefix, value = "", false
		if command {
			prefix = filepath.Base(t)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			inWord = true
		case c == ' ' || c == '\t':
			flush()
		case c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '\n':
			flush()
			command, redirect, prefix, value = true, 0, "", false
		case c == '>' || c == '<':
			// 2>file, >&2: a number before belongs to the redirection.
			if inWord && isDigits(cur.String()) {
				cur.Reset()
				inWord = false
			}
			flush()
			if c == '>' {
				redirect = 1
			} else {
				redirect = 2
			}
			for i+1 < len(s) && (s[i+1] == '>' || s[i+1] == '&' || s[i+1] == '|') {
				i++
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words
}

func isAssignment(t string) bool {
	eq := strings.IndexByte(t, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := t[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isDigits(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return t != ""
}
