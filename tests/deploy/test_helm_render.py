"""The Go-template renderer behind test_chart: Helm's semantics for what the chart uses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.helm_render import Template, TemplateError


def render(source: str, values: dict[str, Any] | None = None, helpers: str = "") -> str:
    template = Template()
    template.add("_helpers.tpl", helpers)
    template.add("t.yaml", source)
    context = {"Values": values or {}, "Release": {"Name": "rel"}}
    return template.render(template.files["t.yaml"], context, {"$": context})


def test_fields_and_whitespace_trimming() -> None:
    assert render("a: {{ .Values.x.y }}\n", {"x": {"y": 1}}) == "a: 1\n"
    assert render("a\n  {{- .Release.Name }}  \nb") == "arel  \nb"
    assert render("a  {{ .Release.Name -}}\n\n  b") == "a  relb"
    assert render("{{ .Values.missing }}|{{/* a comment */}}|") == "||"


def test_a_field_of_nothing_is_an_error() -> None:
    with pytest.raises(TemplateError, match="nil pointer"):
        render("{{ .Values.missing.field }}")


def test_if_else_if_else() -> None:
    source = "{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}"
    assert render(source, {"a": 1, "b": 1}) == "A"
    assert render(source, {"a": 0, "b": "x"}) == "B"
    assert render(source, {"a": "", "b": []}) == "C"
    assert render("{{ if not .Values.a }}n{{ end }}", {"a": {}}) == "n"
    assert render("{{ if or .Values.a .Values.b }}y{{ end }}", {"b": True}) == "y"
    assert render("{{ if and .Values.a .Values.b }}y{{ end }}", {"a": True}) == ""


def test_with_changes_dot_and_range_iterates_lists_and_sorted_maps() -> None:
    assert render("{{ with .Values.m }}{{ .k }}{{ else }}none{{ end }}", {"m": {"k": "v"}}) == "v"
    assert render("{{ with .Values.m }}{{ .k }}{{ else }}none{{ end }}", {"m": {}}) == "none"
    assert render("{{ range .Values.l }}[{{ . }}]{{ end }}", {"l": [1, 2]}) == "[1][2]"
    assert render("{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
                  {"m": {"b": 2, "a": 1}}) == "a=1;b=2;"
    assert render("{{ range .Values.l }}{{ $.Release.Name }}{{ end }}", {"l": [1]}) == "rel"
    assert render("{{ range .Values.l }}x{{ else }}empty{{ end }}", {"l": []}) == "empty"


def test_define_and_include_with_pipelines() -> None:
    helpers = '{{- define "name" -}}{{ .Release.Name }}-app{{- end -}}'
    assert render('n: {{ include "name" . | quote }}', helpers=helpers) == 'n: "rel-app"'
    assert render('{{ printf "%s-%s" .Release.Name (include "name" .) | trunc 7 | trimSuffix "-" }}',
                  helpers=helpers) == "rel-rel"


def test_to_yaml_and_indentation() -> None:
    source = "spec:\n  {{- toYaml .Values.s | nindent 2 }}\n"
    assert render(source, {"s": {"b": [1], "a": "x"}}) == "spec:\n  a: x\n  b:\n  - 1\n"
    assert render("{{ indent 2 \"a\\nb\" }}") == "  a\n  b"


def test_default_quote_required_sha() -> None:
    assert render('{{ .Values.t | default "latest" }}', {"t": ""}) == "latest"
    assert render('{{ .Values.t | default "latest" }}', {"t": "1.0"}) == "1.0"
    assert render("{{ .Values.n | quote }}", {"n": 3}) == '"3"'
    assert render('{{ "a\\"b" | quote }}') == '"a\\"b"'
    with pytest.raises(TemplateError, match="needed"):
        render('{{ required "needed" .Values.x }}', {"x": ""})
    assert len(render('{{ "x" | sha256sum }}')) == 64


def test_anything_unsupported_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="unknown function"):
        render("{{ lookup }}")
    with pytest.raises(TemplateError, match="use toYaml"):
        render("{{ .Values.m }}", {"m": {"a": 1}})
    with pytest.raises(TemplateError, match="missing"):
        render("{{ if .Values.a }}x")
    with pytest.raises(TemplateError, match="no template"):
        render('{{ include "nope" . }}')
