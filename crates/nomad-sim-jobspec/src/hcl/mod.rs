//! HCL2 job files, read as Nomad's `jobspec2` reads them: `variable` blocks (types, defaults,
//! validation), `-var` overrides, `locals`, `var.x` and `local.x` references, interpolation and
//! the common functions; everything else that looks like a variable (`${attr.kernel.name}`,
//! `${node.class}`, `${NOMAD_META_shard}`) is kept verbatim as the literal `"${...}"`, for the
//! scheduler or the client to interpolate later.
//!
//! The result is the job as Nomad's API JSON (PascalCase keys, durations in nanoseconds), plus
//! where each value came from, so later checks can point at the file's line and column.

mod funcs;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::template::ForTemplateExpr;
use hcl::edit::visit_mut::{self, VisitMut};
use hcl::edit::{Decorated, Span};
use hcl::eval::{Context, Evaluate};
use hcl::Value;
use serde_json::{Map as JMap, Value as J};

use crate::diag::{Diagnostic, Error, LineIndex, Locator, Pos};
use crate::fields::{self, Kind, Obj};
use types::Type;

/// The job as API JSON (the bare `Job` object) and where its values came from.
pub(crate) struct Translated {
    pub(crate) job: J,
    pub(crate) locator: Locator,
}

/// Reads an HCL2 job file with the given `-var` values.
pub(crate) fn read(
    text: &str,
    file: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Translated, Error> {
    let body = hcl::edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        Error::one(
            file,
            Pos {
                line: loc.line() as u32,
                col: loc.column() as u32,
            },
            format!("HCL syntax error: {}", e.message()),
        )
    })?;
    let mut r = Reader {
        file,
        text,
        lines: LineIndex::new(text),
        ctx: Context::new(),
        var_names: BTreeSet::new(),
        locals: hcl::Map::new(),
        errors: Vec::new(),
        locator: Locator::default(),
    };
    funcs::declare(&mut r.ctx);
    let job = r.read_file(&body, vars);
    if !r.errors.is_empty() {
        r.errors.sort_by_key(|d| (d.pos.line, d.pos.col));
        return Err(Error {
            diagnostics: r.errors,
        });
    }
    match job {
        Some(job) => Ok(Translated {
            job,
            locator: r.locator,
        }),
        None => Err(Error::one(file, Pos::default(), "no job block")),
    }
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
    ctx: Context<'static>,
    var_names: BTreeSet<String>,
    locals: hcl::Map<String, Value>,
    errors: Vec<Diagnostic>,
    locator: Locator,
}

/// A `var.x` or `local.x` reference found in an expression.
struct Ref {
    root: String,
    name: Option<String>,
    span: Option<Range<usize>>,
}

/// Prepares an expression for evaluation: finds `var` and `local` references and replaces
/// references to anything else with the verbatim `"${...}"` string, as Nomad does.
struct Prepare<'t> {
    text: &'t str,
    bound: BTreeSet<String>,
    refs: Vec<Ref>,
}

fn root_name(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::Variable(v) => Some(v.as_str()),
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(v) => Some(v.as_str()),
            _ => None,
        },
        _ => None,
    }
}

impl Prepare<'_> {
    fn is_known(&self, root: &str) -> bool {
        root == "var" || root == "local" || self.bound.contains(root)
    }

    /// True for an operator tree (such as `attr.unique.network.ip-address`, which HCL reads as
    /// a subtraction) made only of unknown references and literals, with at least one reference.
    fn is_passthrough_tree(&self, expr: &Expression) -> bool {
        fn walk(p: &Prepare<'_>, e: &Expression, found: &mut bool) -> bool {
            if let Some(root) = root_name(e) {
                if p.is_known(root) {
                    return false;
                }
                *found = true;
                return true;
            }
            match e {
                Expression::BinaryOp(op) => {
                    walk(p, &op.lhs_expr, found) && walk(p, &op.rhs_expr, found)
                }
                Expression::UnaryOp(op) => walk(p, &op.expr, found),
                Expression::Number(_) => true,
                _ => false,
            }
        }
        let mut found = false;
        matches!(expr, Expression::BinaryOp(_) | Expression::UnaryOp(_))
            && walk(self, expr, &mut found)
            && found
    }

    fn verbatim(&self, expr: &Expression) -> Expression {
        let src = expr
            .span()
            .and_then(|s| self.text.get(s))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| expr.to_string().trim().to_string());
        Expression::String(Decorated::new(format!("${{{src}}}")))
    }
}

impl VisitMut for Prepare<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        if let Some(root) = root_name(expr).map(str::to_string) {
            if root == "var" || root == "local" {
                let name = match expr {
                    Expression::Traversal(t) => match t.operators.first().map(|o| o.value()) {
                        Some(TraversalOperator::GetAttr(i)) => Some(i.as_str().to_string()),
                        Some(TraversalOperator::Index(Expression::String(s))) => {
                            Some(s.as_str().to_string())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                self.refs.push(Ref {
                    root,
                    name,
                    span: expr.span(),
                });
                // Index expressions inside the traversal may refer to more; the root is done.
                if let Expression::Traversal(t) = expr {
                    for op in t.operators.iter_mut() {
                        self.visit_traversal_operator_mut(op);
                    }
                }
                return;
            }
            if !self.is_known(&root) {
                *expr = self.verbatim(expr);
                return;
            }
        }
        if self.is_passthrough_tree(expr) {
            *expr = self.verbatim(expr);
            return;
        }
        if let Expression::ForExpr(f) = expr {
            if let Some(k) = &f.intro.key_var {
                self.bound.insert(k.as_str().to_string());
            }
            self.bound.insert(f.intro.value_var.as_str().to_string());
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_for_template_expr_mut(&mut self, node: &mut ForTemplateExpr) {
        if let Some(k) = &node.key_var {
            self.bound.insert(k.as_str().to_string());
        }
        self.bound.insert(node.value_var.as_str().to_string());
        visit_mut::visit_for_template_expr_mut(self, node);
    }
}

/// Which HCL block a field is read in, for messages.
fn block_name(obj: Obj) -> &'static str {
    match obj {
        Obj::Job => "job",
        Obj::Group => "group",
        Obj::Task => "task",
        Obj::Resources => "resources",
        Obj::Network => "network",
        Obj::Port => "port",
        Obj::Device => "device",
        Obj::Constraint => "constraint",
        Obj::Affinity => "affinity",
        Obj::Spread => "spread",
        Obj::SpreadTarget => "target",
        Obj::Lifecycle => "lifecycle",
        Obj::EphemeralDisk => "ephemeral_disk",
        Obj::Restart => "restart",
        Obj::Reschedule => "reschedule",
        Obj::Migrate => "migrate",
        Obj::Update => "update",
        Obj::Periodic => "periodic",
        Obj::Parameterized => "parameterized",
        Obj::Disconnect => "disconnect",
        Obj::Numa => "numa",
        Obj::Scaling => "scaling",
    }
}

/// Constraint and affinity shorthands: `distinct_hosts = true`, `regexp = "..."`, ...
const SHORTHANDS: &[&str] = &[
    "distinct_hosts",
    "distinct_property",
    "regexp",
    "version",
    "semver",
    "set_contains",
    "set_contains_any",
    "set_contains_all",
    "is_set",
    "is_not_set",
];

impl Reader<'_> {
    fn pos(&self, span: Option<Range<usize>>) -> Pos {
        match span {
            Some(s) => self.lines.pos(self.text, s.start),
            None => Pos::default(),
        }
    }

    fn error(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let pos = self.pos(span);
        self.errors.push(Diagnostic {
            file: self.file.to_string(),
            pos,
            field: None,
            message: message.into(),
        });
    }

    /// Replaces unknown references and lists `var`/`local` references.
    fn prepare(&self, expr: &Expression) -> (Expression, Vec<Ref>) {
        let mut e = expr.clone();
        let mut p = Prepare {
            text: self.text,
            bound: BTreeSet::new(),
            refs: Vec::new(),
        };
        p.visit_expr_mut(&mut e);
        (e, p.refs)
    }

    /// Evaluates an expression; errors are recorded with their position and give `None`.
    fn eval(&mut self, expr: &Expression) -> Option<Value> {
        let (prepared, refs) = self.prepare(expr);
        let mut ok = true;
        for r in refs {
            match (&r.root[..], &r.name) {
                ("var", Some(n)) if !self.var_names.contains(n) => {
                    self.error(
                        r.span,
                        format!("unknown variable var.{n}: no variable {n:?} is declared"),
                    );
                    ok = false;
                }
                ("local", Some(n)) if !self.locals.contains_key(n) => {
                    self.error(r.span, format!("unknown local value local.{n}"));
                    ok = false;
                }
                (root, None) => {
                    self.error(
                        r.span,
                        format!("`{root}` must be followed by a name, as in {root}.NAME"),
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        if !ok {
            return None;
        }
        self.finish(expr, prepared)
    }

    fn finish(&mut self, original: &Expression, prepared: Expression) -> Option<Value> {
        let e: hcl::Expression = prepared.into();
        match e.evaluate(&self.ctx) {
            Ok(v) => Some(v),
            Err(err) => {
                self.error(original.span(), format!("cannot evaluate: {}", err.kind()));
                None
            }
        }
    }

    fn read_file(&mut self, body: &Body, vars: &BTreeMap<String, String>) -> Option<J> {
        let mut var_blocks = Vec::new();
        let mut locals = Vec::new();
        let mut jobs = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => self.error(
                    a.key.span(),
                    format!(
                        "unexpected argument {:?} at the top level: a job file holds variable, locals and one job block",
                        a.key.as_str()
                    ),
                ),
                Structure::Block(b) => match b.ident.as_str() {
                    "variable" | "variables" => var_blocks.push(b),
                    "locals" => locals.push(b),
                    "job" => jobs.push(b),
                    other => self.error(
                        b.ident.span(),
                        format!("unsupported block {other:?} at the top level: a job file holds variable, locals and one job block"),
                    ),
                },
            }
        }
        self.read_variables(&var_blocks, vars);
        if !self.errors.is_empty() {
            return None;
        }
        self.read_locals(&locals);
        if !self.errors.is_empty() {
            return None;
        }
        let job = match jobs.as_slice() {
            [] => {
                self.error(None, "no job block: a job file needs `job \"ID\" { ... }`");
                return None;
            }
            [job] => *job,
            [_, second, ..] => {
                self.error(
                    second.ident.span(),
                    "only one job block is allowed per file",
                );
                return None;
            }
        };
        let id = match job.labels.as_slice() {
            [label] => label.as_str().to_string(),
            _ => {
                self.error(
                    job.ident.span(),
                    "a job block needs exactly one label, its ID: job \"ID\" { ... }",
                );
                return None;
            }
        };
        let mut out = JMap::new();
        out.insert("ID".into(), J::String(id));
        let pos = self.pos(job.labels.first().and_then(|l| l.span()));
        self.locator.insert("", self.pos(job.ident.span()));
        self.locator.insert("/ID", pos);
        self.read_body(Obj::Job, &job.body, "", &mut out);
        Some(J::Object(out))
    }

    fn read_variables(&mut self, blocks: &[&Block], given: &BTreeMap<String, String>) {
        let mut values = hcl::Map::new();
        let mut validations: Vec<(&Block, String)> = Vec::new();
        for b in blocks {
            if b.ident.as_str() == "variables" {
                for s in b.body.iter() {
                    match s {
                        Structure::Attribute(a) => {
                            let name = a.key.as_str().to_string();
                            let default = self.eval_constant(&a.value);
                            let v = match given.get(&name) {
                                Some(text) => {
                                    self.var_from_flag(&name, text, &Type::Any, a.key.span())
                                }
                                None => default,
                            };
                            self.declare_var(&name, a.key.span(), v, &mut values);
                        }
                        Structure::Block(inner) => self.error(
                            inner.ident.span(),
                            "a variables block holds only name = default arguments",
                        ),
                    }
                }
                continue;
            }
            let name = match b.labels.as_slice() {
                [l] => l.as_str().to_string(),
                _ => {
                    self.error(
                        b.ident.span(),
                        "a variable block needs exactly one label, its name",
                    );
                    continue;
                }
            };
            let mut ty = Type::Any;
            let mut default: Option<(Value, Option<Range<usize>>)> = None;
            for s in b.body.iter() {
                match s {
                    Structure::Attribute(a) => match a.key.as_str() {
                        "type" => match Type::parse(&a.value) {
                            Ok(t) => ty = t,
                            Err(e) => self.error(a.value.span(), format!("variable {name:?}: {e}")),
                        },
                        "default" => {
                            if let Some(v) = self.eval_constant(&a.value) {
                                default = Some((v, a.value.span()));
                            }
                        }
                        "description" | "sensitive" | "nullable" => {}
                        other => self.error(
                            a.key.span(),
                            format!("unsupported argument {other:?} in variable {name:?}"),
                        ),
                    },
                    Structure::Block(inner) if inner.ident.as_str() == "validation" => {
                        validations.push((inner, name.clone()));
                    }
                    Structure::Block(inner) => self.error(
                        inner.ident.span(),
                        format!(
                            "unsupported block {:?} in variable {name:?}",
                            inner.ident.as_str()
                        ),
                    ),
                }
            }
            let value = match given.get(&name) {
                Some(text) => self.var_from_flag(&name, text, &ty, b.ident.span()),
                None => match default {
                    Some((v, span)) => match ty.convert(v) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            self.error(
                                span,
                                format!("variable {name:?}: wrong type for the default: {e}"),
                            );
                            None
                        }
                    },
                    None => {
                        self.error(
                            b.labels.first().and_then(|l| l.span()),
                            format!("variable {name:?} has no default and no value: pass --var {name}=VALUE"),
                        );
                        None
                    }
                },
            };
            self.declare_var(&name, b.ident.span(), value, &mut values);
        }
        for name in given.keys() {
            if !self.var_names.contains(name) {
                self.errors.push(Diagnostic {
                    file: self.file.to_string(),
                    pos: Pos::default(),
                    field: None,
                    message: format!("--var {name}: no variable {name:?} is declared in this file"),
                });
            }
        }
        self.ctx.declare_var("var", Value::Object(values));
        if !self.errors.is_empty() {
            return;
        }
        for (block, name) in validations {
            let cond = block.body.get_attribute("condition");
            let msg = block.body.get_attribute("error_message");
            let Some(cond) = cond else {
                self.error(
                    block.ident.span(),
                    format!("variable {name:?}: a validation needs a condition"),
                );
                continue;
            };
            match self.eval(&cond.value) {
                Some(Value::Bool(true)) | None => {}
                Some(Value::Bool(false)) => {
                    let text = msg
                        .and_then(|m| self.eval(&m.value))
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "the validation condition is false".to_string());
                    self.error(cond.value.span(), format!("variable {name:?}: {text}"));
                }
                Some(other) => self.error(
                    cond.value.span(),
                    format!("variable {name:?}: a validation condition must be true or false, got `{other}`"),
                ),
            }
        }
    }

    fn declare_var(
        &mut self,
        name: &str,
        span: Option<Range<usize>>,
        value: Option<Value>,
        values: &mut hcl::Map<String, Value>,
    ) {
        if !self.var_names.insert(name.to_string()) {
            self.error(span, format!("variable {name:?} is declared twice"));
        }
        values.insert(name.to_string(), value.unwrap_or(Value::Null));
    }

    /// Evaluates a default: a constant expression (functions allowed, no references).
    fn eval_constant(&mut self, expr: &Expression) -> Option<Value> {
        let (prepared, refs) = self.prepare(expr);
        if let Some(r) = refs.first() {
            self.error(
                r.span.clone(),
                "a variable default cannot refer to variables or locals",
            );
            return None;
        }
        self.finish(expr, prepared)
    }

    /// A `-var name=text` value: text for strings, an HCL expression otherwise.
    fn var_from_flag(
        &mut self,
        name: &str,
        text: &str,
        ty: &Type,
        span: Option<Range<usize>>,
    ) -> Option<Value> {
        let raw = match ty {
            Type::String | Type::Any => Value::String(text.to_string()),
            _ => match hcl::edit::parser::parse_expr(text) {
                Ok(e) => {
                    let e: hcl::Expression = e.into();
                    match e.evaluate(&Context::new()) {
                        Ok(v) => v,
                        Err(_) => Value::String(text.to_string()),
                    }
                }
                Err(_) => Value::String(text.to_string()),
            },
        };
        match ty.convert(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(
                    span,
                    format!("--var {name}={text}: wrong type for variable {name:?}: {e}"),
                );
                None
            }
        }
    }

    fn read_locals(&mut self, blocks: &[&Block]) {
        let mut pending: Vec<(String, &Expression, Option<Range<usize>>)> = Vec::new();
        let mut names = BTreeSet::new();
        for b in blocks {
            for s in b.body.iter() {
                match s {
                    Structure::Attribute(a) => {
                        let name = a.key.as_str().to_string();
                        if !names.insert(name.clone()) {
                            self.error(
                                a.key.span(),
                                format!("local value {name:?} is defined twice"),
                            );
                        }
                        pending.push((name, &a.value, a.key.span()));
                    }
                    Structure::Block(inner) => self.error(
                        inner.ident.span(),
                        "a locals block holds only name = value arguments",
                    ),
                }
            }
        }
        while !pending.is_empty() {
            let mut progressed = false;
            let mut rest = Vec::new();
            for (name, expr, span) in pending {
                let (_, refs) = self.prepare(expr);
                let waiting = refs.iter().any(|r| {
                    r.root == "local"
                        && r.name
                            .as_ref()
                            .is_some_and(|n| !self.locals.contains_key(n) && names.contains(n))
                });
                if waiting {
                    rest.push((name, expr, span));
                    continue;
                }
                progressed = true;
                let v = self.eval(expr).unwrap_or(Value::Null);
                self.locals.insert(name, v);
                self.ctx
                    .declare_var("local", Value::Object(self.locals.clone()));
            }
            if !progressed {
                if let Some((name, _, span)) = rest.first() {
                    self.error(
                        span.clone(),
                        format!("local value {name:?} depends on itself"),
                    );
                }
                return;
            }
            pending = rest;
        }
        self.ctx
            .declare_var("local", Value::Object(self.locals.clone()));
    }

    /// Reads a block body of a known object into API JSON.
    fn read_body(&mut self, obj: Obj, body: &Body, path: &str, out: &mut JMap<String, J>) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => self.read_attribute(obj, a, path, out),
                Structure::Block(b) => self.read_block(obj, b, path, out),
            }
        }
    }

    fn read_attribute(
        &mut self,
        obj: Obj,
        a: &hcl::edit::structure::Attribute,
        path: &str,
        out: &mut JMap<String, J>,
    ) {
        let name = a.key.as_str();
        if matches!(obj, Obj::Constraint | Obj::Affinity) && SHORTHANDS.contains(&name) {
            let Some(v) = self.eval(&a.value) else { return };
            let pos = self.pos(a.value.span());
            self.locator.insert(&format!("{path}/Operand"), pos);
            out.insert("Operand".into(), J::String(name.to_string()));
            match name {
                "distinct_hosts" => {
                    if v != Value::Bool(true) && v != Value::String("true".into()) {
                        out.remove("Operand");
                    } else {
                        out.insert("RTarget".into(), J::String("true".into()));
                    }
                }
                "distinct_property" => {
                    self.locator.insert(&format!("{path}/LTarget"), pos);
                    out.insert("LTarget".into(), J::String(scalar_string(&v)));
                }
                "is_set" | "is_not_set" => {}
                _ => {
                    self.locator.insert(&format!("{path}/RTarget"), pos);
                    out.insert("RTarget".into(), J::String(scalar_string(&v)));
                }
            }
            return;
        }
        let Some(field) = fields::by_hcl(obj, name) else {
            self.error(
                a.key.span(),
                format!("unsupported argument {name:?} in {}", block_name(obj)),
            );
            return;
        };
        let key = format!("{path}/{}", field.api);
        if out.contains_key(field.api) {
            self.error(a.key.span(), format!("{name:?} is set twice"));
            return;
        }
        let value_span = a.value.span();
        let pos = self.pos(value_span.clone());
        let Some(v) = self.eval(&a.value) else { return };
        if v == Value::Null {
            return;
        }
        let converted = match field.kind {
            Kind::Str => to_str(&v),
            Kind::Int => to_int(&v),
            Kind::Bool => to_bool(&v),
            Kind::Dur => to_dur(&v),
            Kind::StrList => to_str_list(&v),
            Kind::StrMap => to_str_map(&v),
            Kind::Opaque => Ok(to_json(&v)),
            _ => Err(format!("{name} is a block: write {name} {{ ... }}")),
        };
        match converted {
            Ok(j) => {
                self.locator.insert(&key, pos);
                out.insert(field.api.to_string(), j);
            }
            Err(e) => self.error(value_span, format!("{name}: {e}")),
        }
    }

    fn read_block(&mut self, obj: Obj, b: &Block, path: &str, out: &mut JMap<String, J>) {
        let name = b.ident.as_str();
        let Some(field) = fields::by_hcl(obj, name) else {
            self.error(
                b.ident.span(),
                format!("unsupported block {name:?} in {}", block_name(obj)),
            );
            return;
        };
        let pos = self.pos(b.ident.span());
        // A list's first block also locates the list as a whole.
        self.locator.insert(&format!("{path}/{}", field.api), pos);
        let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
        let want_labels = matches!(
            field.kind,
            Kind::Labelled(..) | Kind::Ports | Kind::OpaqueMap
        );
        if want_labels && labels.len() != 1 {
            self.error(
                b.ident.span(),
                format!("a {name} block needs exactly one label"),
            );
            return;
        }
        if !want_labels && !labels.is_empty() && !matches!(field.kind, Kind::Opaque | Kind::Opaques)
        {
            self.error(b.ident.span(), format!("a {name} block takes no label"));
            return;
        }
        match field.kind {
            Kind::Block(o) => {
                if out.contains_key(field.api) {
                    self.error(
                        b.ident.span(),
                        format!("only one {name} block is allowed here"),
                    );
                    return;
                }
                let p = format!("{path}/{}", field.api);
                self.locator.insert(&p, pos);
                let mut m = JMap::new();
                self.read_body(o, &b.body, &p, &mut m);
                out.insert(field.api.to_string(), J::Object(m));
            }
            Kind::Blocks(o) | Kind::Labelled(o, _) => {
                let list = push_list(out, field.api);
                let p = format!("{path}/{}/{}", field.api, list);
                self.locator.insert(&p, pos);
                let mut m = JMap::new();
                if let Kind::Labelled(_, label_key) = field.kind {
                    let lpos = self.pos(b.labels.first().and_then(|l| l.span()));
                    self.locator.insert(&format!("{p}/{label_key}"), lpos);
                    m.insert(label_key.to_string(), J::String(labels[0].to_string()));
                }
                self.read_body(o, &b.body, &p, &mut m);
                if let Some(J::Array(items)) = out.get_mut(field.api) {
                    items.push(J::Object(m));
                }
            }
            Kind::Ports => {
                let scratch = format!("{path}/#port");
                let mut m = JMap::new();
                m.insert("Label".into(), J::String(labels[0].to_string()));
                self.read_body(Obj::Port, &b.body, &scratch, &mut m);
                let is_static = m.get("Value").and_then(J::as_i64).unwrap_or(0) != 0;
                let key = if is_static {
                    "ReservedPorts"
                } else {
                    "DynamicPorts"
                };
                let n = push_list(out, key);
                let p = format!("{path}/{key}/{n}");
                self.locator.insert(&p, pos);
                self.locator.move_prefix(&scratch, &p);
                if let Some(J::Array(items)) = out.get_mut(key) {
                    items.push(J::Object(m));
                }
            }
            Kind::StrMap => {
                let p = format!("{path}/{}", field.api);
                self.locator.insert(&p, pos);
                let mut m = match out.remove(field.api) {
                    Some(J::Object(m)) => m,
                    _ => JMap::new(),
                };
                for s in b.body.iter() {
                    match s {
                        Structure::Attribute(a) => {
                            let Some(v) = self.eval(&a.value) else {
                                continue;
                            };
                            let vpos = self.pos(a.value.span());
                            self.locator
                                .insert(&format!("{p}/{}", a.key.as_str()), vpos);
                            m.insert(a.key.as_str().to_string(), J::String(scalar_string(&v)));
                        }
                        Structure::Block(inner) => self.error(
                            inner.ident.span(),
                            format!("a {name} block holds only name = value arguments"),
                        ),
                    }
                }
                out.insert(field.api.to_string(), J::Object(m));
            }
            Kind::Opaque => {
                let p = format!("{path}/{}", field.api);
                self.locator.insert(&p, pos);
                let j = self.opaque(&b.body);
                out.insert(field.api.to_string(), j);
            }
            Kind::Opaques => {
                let n = push_list(out, field.api);
                self.locator
                    .insert(&format!("{path}/{}/{n}", field.api), pos);
                let j = self.opaque(&b.body);
                if let Some(J::Array(items)) = out.get_mut(field.api) {
                    items.push(j);
                }
            }
            Kind::OpaqueMap => {
                let p = format!("{path}/{}", field.api);
                self.locator.insert(&p, pos);
                self.locator.insert(&format!("{p}/{}", labels[0]), pos);
                let j = self.opaque(&b.body);
                let entry = out
                    .entry(field.api.to_string())
                    .or_insert_with(|| J::Object(JMap::new()));
                if let J::Object(m) = entry {
                    m.insert(labels[0].to_string(), j);
                }
            }
            _ => self.error(
                b.ident.span(),
                format!("{name} is an argument: write {name} = ..."),
            ),
        }
    }

    /// Any block body as JSON: arguments as values, nested blocks as lists of objects.
    fn opaque(&mut self, body: &Body) -> J {
        let mut m = JMap::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if let Some(v) = self.eval(&a.value) {
                        m.insert(a.key.as_str().to_string(), to_json(&v));
                    }
                }
                Structure::Block(b) => {
                    let mut inner = self.opaque(&b.body);
                    for l in b.labels.iter().rev() {
                        let mut wrap = JMap::new();
                        wrap.insert(l.as_str().to_string(), inner);
                        inner = J::Object(wrap);
                    }
                    let entry = m
                        .entry(b.ident.as_str().to_string())
                        .or_insert_with(|| J::Array(Vec::new()));
                    if let J::Array(items) = entry {
                        items.push(inner);
                    }
                }
            }
        }
        J::Object(m)
    }
}

/// Makes sure `out[key]` is a list and returns the index the next item will have.
fn push_list(out: &mut JMap<String, J>, key: &str) -> usize {
    let entry = out
        .entry(key.to_string())
        .or_insert_with(|| J::Array(Vec::new()));
    match entry {
        J::Array(items) => items.len(),
        other => {
            *other = J::Array(Vec::new());
            0
        }
    }
}

fn to_json(v: &Value) -> J {
    serde_json::to_value(v).unwrap_or(J::Null)
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn to_str(v: &Value) -> Result<J, String> {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(J::String(scalar_string(v))),
        other => Err(format!("a string is required, got `{other}`")),
    }
}

fn to_int(v: &Value) -> Result<J, String> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    // A whole number too large to hold exactly stays a float, for the range checks to refuse.
    match f {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(J::from(f as i64)),
        Some(f) if f.is_finite() && f.fract() == 0.0 => Ok(J::from(f)),
        _ => Err(format!("a whole number is required, got `{v}`")),
    }
}

fn to_bool(v: &Value) -> Result<J, String> {
    match v {
        Value::Bool(b) => Ok(J::Bool(*b)),
        Value::String(s) if s == "true" || s == "false" => Ok(J::Bool(s == "true")),
        other => Err(format!("true or false is required, got `{other}`")),
    }
}

fn to_dur(v: &Value) -> Result<J, String> {
    match v {
        Value::String(s) => crate::duration::parse(s).map(J::from),
        other => Err(format!(
            "a duration such as \"30s\" is required, got `{other}`"
        )),
    }
}

fn to_str_list(v: &Value) -> Result<J, String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(to_str)
            .collect::<Result<Vec<_>, _>>()
            .map(J::Array),
        other => Err(format!("a list of strings is required, got `{other}`")),
    }
}

fn to_str_map(v: &Value) -> Result<J, String> {
    match v {
        Value::Object(items) => {
            let mut m = JMap::new();
            for (k, v) in items {
                m.insert(k.clone(), J::String(scalar_string(v)));
            }
            Ok(J::Object(m))
        }
        other => Err(format!("a map of strings is required, got `{other}`")),
    }
}
