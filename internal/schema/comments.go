package schema

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"

	"github.com/lbx-dev/lbx/model"
)

// comments are the Go doc comments of the model's types and of their
// fields, keyed "Type" and "Type.GoField".
type comments map[string]string

// modelDir finds the source directory of package model, wherever the
// generator or the test runs inside the module.
func modelDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	pkg, err := build.Default.Import(reflect.TypeOf(model.Model{}).PkgPath(), wd, build.FindOnly)
	if err != nil {
		return "", fmt.Errorf("find the model's source (run inside the lbx module): %w", err)
	}
	return pkg.Dir, nil
}

// readComments parses the non-test Go files of dir.
func readComments(dir string) (comments, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", dir, err)
	}
	c := comments{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
					c.addTypes(g)
				}
			}
		}
	}
	return c, nil
}

func (c comments) addTypes(g *ast.GenDecl) {
	for _, s := range g.Specs {
		ts := s.(*ast.TypeSpec)
		doc := ts.Doc
		if doc == nil && len(g.Specs) == 1 {
			doc = g.Doc
		}
		c[ts.Name.Name] = text(doc)
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				c[ts.Name.Name+"."+n.Name] = strings.TrimSpace(text(f.Doc) + " " + capitalise(text(f.Comment)))
			}
		}
	}
}

// text is a comment group as one paragraph.
func text(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// capitalise makes a trailing line comment ("default 1") a sentence.
func capitalise(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// fieldDoc is a field's comment, with the Go name it begins with (Go's
// convention) replaced by the YAML key the reader writes.
func (c comments) fieldDoc(typeName, goName, key string) string {
	d := c[typeName+"."+goName]
	if rest, ok := strings.CutPrefix(d, goName+" "); ok {
		return key + " " + rest
	}
	return d
}
