//! From text to a validated [`Project`]: the file read through
//! [`super::file`], `${VAR}` references resolved, every reference checked,
//! every error with its line and column.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::error::{Error, Result};

use super::file::*;
use super::*;

/// Loads and validates `DIR/godwit.toml` (or the project file `path` names).
pub fn load(path: &Path) -> Result<Project> {
    // `godwit run some/dir/godwit.toml` means the project in `some/dir`.
    let (dir, file) = if path.is_file() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        (parent.unwrap_or(Path::new(".")), path.to_path_buf())
    } else {
        (path, path.join(PROJECT_FILE))
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Error::project(format!("cannot read {}: {e}", file.display())))?;
    parse(dir, &file, &text, &|name| std::env::var(name).ok())
}

/// Parses project text; `env` resolves `${VAR}` references. `file` is only used
/// in messages.
pub fn parse(
    dir: &Path,
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Project> {
    let at = |span: Range<usize>, msg: String| -> Error {
        let (line, col) = line_col(text, span.start);
        Error::project(format!("{}:{line}:{col}: {msg}", file.display()))
    };
    let raw: FileProject = toml::from_str(text).map_err(|e| {
        let msg = e.message().to_owned();
        match e.span() {
            Some(span) => at(span, msg),
            None => Error::project(format!("{}: {msg}", file.display())),
        }
    })?;
    let dir = dir.to_path_buf();
    let abs = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };

    let mut connections = BTreeMap::new();
    for (name, c) in raw.connections {
        let dsn = interpolate(c.dsn.get_ref(), env).map_err(|m| at(c.dsn.span(), m))?;
        if let Some(pw) = dsn_password(&dsn) {
            crate::redact::register(pw);
        }
        let dsn_secret = Secret::new(dsn.clone());
        crate::dsn::check_dsn(&dsn_secret).map_err(|m| at(c.dsn.span(), m))?;
        connections.insert(
            name,
            Connection {
                dsn: Secret::new(dsn),
            },
        );
    }
    let mut stores = BTreeMap::new();
    for (name, s) in raw.stores {
        let store = parse_store(&name, s, env, &at, &abs)?;
        stores.insert(name, store);
    }

    let mut hosts = BTreeMap::new();
    for (name, h) in raw.hosts {
        let mut url = interpolate(h.url.get_ref(), env).map_err(|m| at(h.url.span(), m))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(at(
                h.url.span(),
                format!("host {name}: url must start with http:// or https://"),
            ));
        }
        if !url.ends_with('/') {
            url.push('/');
        }
        let mut headers = BTreeMap::new();
        for (header, var) in &h.headers_env {
            let v =
                env_secret(var, env).map_err(|m| at(h.url.span(), format!("host {name}: {m}")))?;
            headers.insert(header.to_ascii_lowercase(), v);
        }
        hosts.insert(name, HttpHost { url, headers });
    }

    let mut trust = Trust {
        keys: BTreeMap::new(),
        min_signatures: raw.trust.min_signatures.unwrap_or(1).max(1),
        allow_unsigned_plugins: raw.trust.allow_unsigned_plugins,
    };
    for k in &raw.trust.keys {
        let (key, reviewer) = crate::bundle::read_public_key(&abs(k.get_ref()))
            .map_err(|e| at(k.span(), e.message))?;
        trust.keys.insert(key, reviewer);
    }

    let step_names: std::collections::BTreeSet<String> =
        raw.steps.iter().map(|s| s.name.clone()).collect();
    let mut plugins = BTreeMap::new();
    for (name, p) in raw.plugins {
        let path = p.path.get_ref();
        let source = if let Some(spec) = path.strip_prefix("bundle:") {
            let Some((file, component)) = spec.rsplit_once('#') else {
                return Err(at(
                    p.path.span(),
                    "expected \"bundle:FILE#COMPONENT\"".into(),
                ));
            };
            PluginSource::Bundle {
                path: abs(file),
                rel: file.to_owned(),
                component: component.to_owned(),
            }
        } else {
            match path.strip_prefix("builtin:") {
                Some(b) => {
                    if !crate::builtin::names().contains(&b) {
                        return Err(at(
                            p.path.span(),
                            format!(
                                "unknown built-in plugin {b:?} (available: {})",
                                crate::builtin::names().join(", ")
                            ),
                        ));
                    }
                    PluginSource::Builtin(b.to_owned())
                }
                None => {
                    if !raw.trust.allow_unsigned_plugins {
                        return Err(at(
                            p.path.span(),
                            format!(
                            "plugin {name}: {path:?} is an unsigned component; use a signed bundle \
                             (`bundle:FILE#COMPONENT`), or opt in for development with \
                             `[trust] allow_unsigned_plugins = true`"
                        ),
                        ));
                    }
                    PluginSource::File(abs(path))
                }
            }
        };
        // Each kind's grants name resources of one project section.
        let pipeline: BTreeMap<String, Spanned<String>> = p
            .grants
            .pipeline
            .into_iter()
            .map(|s| (s.get_ref().clone(), s))
            .collect();
        let kinds = [
            ("sql", p.grants.sql),
            ("blob", p.grants.blob),
            ("http", p.grants.http),
            ("pipeline", pipeline),
        ];
        let mut grants = BTreeMap::new();
        for (kind, given) in kinds {
            let section = GRANTABLE
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, s)| *s)
                .expect("every kind is listed in GRANTABLE");
            let known = |name: &str| match section {
                "connections" => connections.contains_key(name),
                "stores" => stores.contains_key(name),
                "hosts" => hosts.contains_key(name),
                _ => step_names.contains(name),
            };
            let mut resolved = BTreeMap::new();
            for (label, res) in given {
                if !known(res.get_ref()) {
                    let name = res.get_ref();
                    let msg = match section {
                        "connections" => format!("no connection named {name:?}"),
                        "stores" => format!("no store named {name:?}"),
                        "hosts" => format!("no host named {name:?} under [hosts]"),
                        _ => format!("no step named {name:?} (grants.pipeline lists steps)"),
                    };
                    return Err(at(res.span(), msg));
                }
                resolved.insert(label, res.into_inner());
            }
            if !resolved.is_empty() {
                grants.insert(kind.to_owned(), resolved);
            }
        }
        let params_json = serde_json::to_string(&p.params)
            .map_err(|e| Error::project(format!("plugin {name}: params: {e}")))?;
        plugins.insert(
            name.clone(),
            PluginInstance {
                name,
                source,
                grants,
                params_json,
                limits: LimitsSpec {
                    memory_mib: p.limits.memory_mib,
                    call_timeout_ms: p.limits.call_timeout_ms,
                    host_call_timeout_ms: p.limits.host_call_timeout_ms,
                    max_handles: p.limits.max_handles,
                    max_connections: p.limits.max_connections,
                    max_result_mib: p.limits.max_result_mib,
                    max_instances: p.limits.max_instances,
                    max_tables: p.limits.max_tables,
                    max_table_elements: p.limits.max_table_elements,
                },
            },
        );
    }

    let plugin_ref = |r: &Spanned<String>| -> Result<String> {
        if plugins.contains_key(r.get_ref()) {
            Ok(r.get_ref().clone())
        } else {
            Err(at(
                r.span(),
                format!("no plugin named {:?} under [plugins]", r.get_ref()),
            ))
        }
    };
    let mut steps = Vec::new();
    for s in raw.steps {
        if steps.iter().any(|x: &Step| x.name == s.name) {
            return Err(Error::project(format!(
                "{}: duplicate step name {:?}",
                file.display(),
                s.name
            )));
        }
        let mut rewrites = Vec::new();
        for r in &s.rewrites {
            let Some((table, column)) = r.column.get_ref().split_once('.') else {
                return Err(at(r.column.span(), "expected \"table.column\"".into()));
            };
            rewrites.push(Rewrite {
                table: table.into(),
                column: column.into(),
                rule: plugin_ref(&r.rule)?,
                into: r.into.clone(),
            });
        }
        let workers = match s.workers {
            Some(w) if *w.get_ref() == 0 || *w.get_ref() > MAX_WORKERS => {
                return Err(at(
                    w.span(),
                    format!("workers must be between 1 and {MAX_WORKERS}"),
                ))
            }
            Some(w) => w.into_inner(),
            None => DEFAULT_WORKERS,
        };
        let batch_rows = match s.batch_rows {
            Some(b) if *b.get_ref() == 0 || *b.get_ref() > MAX_BATCH_ROWS => {
                return Err(at(
                    b.span(),
                    format!("batch_rows must be between 1 and {MAX_BATCH_ROWS}"),
                ))
            }
            Some(b) => Some(b.into_inner()),
            None => None,
        };
        let (exclude, mut reasons) = s.exclude.split();
        let (drop_columns, dropped_why) = s.drop_columns.split();
        reasons.extend(dropped_why);
        for key in s.columns.keys().chain(&drop_columns).chain(s.fill.keys()) {
            if !key.contains('.') {
                return Err(Error::project(format!(
                    "{}: step {}: {key:?} must be \"table.column\"",
                    file.display(),
                    s.name
                )));
            }
        }
        let mut casts = Vec::new();
        for c in &s.casts {
            let span = c.span();
            let c = c.get_ref();
            let matches = match (&c.column, &c.native_type) {
                (Some(col), None) => match col.get_ref().split_once('.') {
                    Some((t, k)) => CastMatch::Column(t.into(), k.into()),
                    None => return Err(at(col.span(), "expected \"table.column\"".into())),
                },
                (None, Some(t)) => CastMatch::NativeType(t.clone()),
                _ => {
                    return Err(at(
                        span,
                        "a cast needs exactly one of `column` or `type`".into(),
                    ))
                }
            };
            let zone_secs = match &c.zone {
                None => 0,
                Some(z) if z.get_ref().eq_ignore_ascii_case("utc") || z.get_ref() == "Z" => 0,
                Some(z) => crate::text::parse_offset(z.get_ref()).ok_or_else(|| {
                    at(
                        z.span(),
                        format!(
                            "zone {:?}: expected an offset like \"+08:00\" or \"UTC\"",
                            z.get_ref()
                        ),
                    )
                })?,
            };
            casts.push(Cast {
                matches,
                to: c.to,
                from: c.from,
                zone_secs,
            });
        }
        steps.push(Step {
            name: s.name,
            source: plugin_ref(&s.source)?,
            target: plugin_ref(&s.target)?,
            tables: s.tables,
            exclude,
            rename: s.rename,
            mode: s.mode,
            rewrites,
            batch_rows,
            max_rejects: s.max_rejects,
            workers,
            identifiers: s.identifiers,
            casts,
            nul_bytes: s.nul_bytes,
            types: s.types,
            zero_dates: s.zero_dates,
            orphans: s.orphans,
            column_renames: s.columns,
            drop_columns,
            reasons,
            fills: s.fill,
        });
    }
    let mut copies = Vec::new();
    for c in raw.copies {
        let name = c.name.get_ref().clone();
        if steps.iter().any(|x: &Step| x.name == name)
            || copies.iter().any(|x: &BlobCopy| x.name == name)
        {
            return Err(at(c.name.span(), format!("duplicate step name {name:?}")));
        }
        let store_ref = |r: &Spanned<String>| -> Result<String> {
            if stores.contains_key(r.get_ref()) {
                Ok(r.get_ref().clone())
            } else {
                Err(at(
                    r.span(),
                    format!("no store named {:?} under [stores]", r.get_ref()),
                ))
            }
        };
        let concurrency = match c.concurrency {
            Some(n) if *n.get_ref() == 0 || *n.get_ref() > MAX_COPY_CONCURRENCY => {
                return Err(at(
                    n.span(),
                    format!("concurrency must be between 1 and {MAX_COPY_CONCURRENCY}"),
                ))
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_COPY_CONCURRENCY,
        };
        if c.prefix.starts_with('/') || c.prefix.split('/').any(|s| s == "..") {
            return Err(at(
                c.name.span(),
                format!(
                    "copy {name}: prefix {:?} must be relative to the store root",
                    c.prefix
                ),
            ));
        }
        copies.push(BlobCopy {
            from: store_ref(&c.from)?,
            to: store_ref(&c.to)?,
            rule: c.rule.as_ref().map(&plugin_ref).transpose()?,
            name,
            prefix: c.prefix,
            value_prefix: c.value_prefix,
            concurrency,
            verify: c.verify,
            delete_extraneous: c.delete_extraneous,
            max_failures: c.max_failures,
        });
    }
    let mut validators = Vec::new();
    for v in raw.validators {
        let step = match &v.step {
            Some(s) if !steps.iter().any(|x| &x.name == s.get_ref()) => {
                return Err(at(s.span(), format!("no step named {:?}", s.get_ref())))
            }
            Some(s) => Some(s.get_ref().clone()),
            None => None,
        };
        let plugin = plugin_ref(&v.plugin)?;
        let when = match v.when {
            Some(w) => w,
            None => inferred_phase(&plugin, &plugins, &steps, &copies),
        };
        validators.push(Validator { plugin, step, when });
    }

    let state_dir = abs(raw.project.state_dir.as_deref().unwrap_or(".godwit"));
    let reports_dir = match raw.project.reports_dir.as_deref() {
        Some(d) => abs(d),
        None => state_dir.join("runs"),
    };
    Ok(Project {
        dir,
        strict: false,
        name: raw.project.name,
        state_dir,
        reports_dir,
        connections,
        stores,
        hosts,
        plugins,
        trust,
        copies,
        steps,
        validators,
        fingerprint: {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    })
}

/// Environment variables S3 credentials come from unless a store names others.
pub const DEFAULT_S3_KEY_ENV: &str = "AWS_ACCESS_KEY_ID";
/// See [`DEFAULT_S3_KEY_ENV`].
pub const DEFAULT_S3_SECRET_ENV: &str = "AWS_SECRET_ACCESS_KEY";
/// Store types other than `fs` and `s3`, each behind a cargo feature.
pub const FEATURE_STORES: &[(&str, &str)] = &[
    ("gcs", "store-gcs"),
    ("azblob", "store-azblob"),
    ("oss", "store-oss"),
    ("cos", "store-cos"),
    ("obs", "store-obs"),
    ("webdav", "store-webdav"),
];

/// A secret read from the environment variable `var` (registered with the
/// scrubber so it is never printed).
pub(super) fn env_secret(
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Secret, String> {
    let v = env(var).ok_or_else(|| {
        format!("environment variable {var} is not set (store credentials come only from the environment)")
    })?;
    crate::redact::register(&v);
    Ok(Secret::new(v))
}

pub(super) fn parse_store(
    name: &str,
    s: FileStore,
    env: &dyn Fn(&str) -> Option<String>,
    at: &dyn Fn(Range<usize>, String) -> Error,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Store> {
    let kind_span = s.kind.span();
    let value = |v: &Spanned<String>| interpolate(v.get_ref(), env).map_err(|m| at(v.span(), m));
    let only = |allowed: &[&str]| -> Result<()> {
        let given = [
            ("root", s.root.is_some()),
            ("bucket", s.bucket.is_some()),
            ("endpoint", s.endpoint.is_some()),
            ("region", s.region.is_some()),
            ("addressing", s.addressing.is_some()),
            ("access_key_env", s.access_key_env.is_some()),
            ("secret_key_env", s.secret_key_env.is_some()),
            ("session_token_env", s.session_token_env.is_some()),
            ("anonymous", s.anonymous),
            ("options", !s.options.is_empty()),
            ("secret_env", !s.secret_env.is_empty()),
        ];
        for (key, set) in given {
            if set && !allowed.contains(&key) {
                return Err(at(
                    kind_span.clone(),
                    format!(
                        "store {name}: `{key}` does not apply to type {:?}",
                        s.kind.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    };
    let mut url_prefixes = Vec::new();
    if let Some(u) = &s.url {
        let mut u = value(u)?;
        if !u.ends_with('/') {
            u.push('/');
        }
        url_prefixes.push(u);
    }
    let kind = match s.kind.get_ref().as_str() {
        "fs" => {
            only(&["root"])?;
            let root = s.root.as_ref().ok_or_else(|| {
                at(
                    kind_span.clone(),
                    format!("store {name}: `root` is required"),
                )
            })?;
            StoreKind::Fs {
                root: abs(&value(root)?),
            }
        }
        "s3" => {
            only(&[
                "root",
                "bucket",
                "endpoint",
                "region",
                "addressing",
                "access_key_env",
                "secret_key_env",
                "session_token_env",
                "anonymous",
            ])?;
            let bucket = s.bucket.as_ref().ok_or_else(|| {
                at(
                    kind_span.clone(),
                    format!("store {name}: `bucket` is required"),
                )
            })?;
            let bucket = value(bucket)?;
            let endpoint = s.endpoint.as_ref().map(value).transpose()?;
            let virtual_host = match s.addressing.as_ref() {
                None => endpoint.is_none(),
                Some(a) => match a.get_ref().as_str() {
                    "path" => false,
                    "virtual-host" => true,
                    other => {
                        return Err(at(
                            a.span(),
                            format!("addressing {other:?}: expected \"path\" or \"virtual-host\""),
                        ))
                    }
                },
            };
            let root = match &s.root {
                Some(r) => value(r)?.trim_matches('/').to_owned(),
                None => String::new(),
            };
            let (access_key_id, secret_access_key) = if s.anonymous {
                (None, None)
            } else {
                let key_env = s.access_key_env.as_deref().unwrap_or(DEFAULT_S3_KEY_ENV);
                let secret_env = s.secret_key_env.as_deref().unwrap_or(DEFAULT_S3_SECRET_ENV);
                let err = |m: String| at(kind_span.clone(), format!("store {name}: {m}"));
                (
                    Some(env_secret(key_env, env).map_err(err)?),
                    Some(env_secret(secret_env, env).map_err(err)?),
                )
            };
            let session_token = s
                .session_token_env
                .as_deref()
                .map(|v| env_secret(v, env))
                .transpose()
                .map_err(|m| at(kind_span.clone(), format!("store {name}: {m}")))?;
            let mut prefix = format!("s3://{bucket}/");
            if !root.is_empty() {
                prefix.push_str(&root);
                prefix.push('/');
            }
            url_prefixes.push(prefix);
            StoreKind::S3(S3Store {
                bucket,
                endpoint,
                region: s.region.clone().unwrap_or_else(|| "us-east-1".into()),
                root,
                virtual_host,
                access_key_id,
                secret_access_key,
                session_token,
            })
        }
        other => {
            let Some((_, feature)) = FEATURE_STORES.iter().find(|(k, _)| *k == other) else {
                return Err(at(
                    kind_span,
                    format!(
                        "unknown store type {other:?} (supported: \"fs\", \"s3\", and with cargo features: {})",
                        FEATURE_STORES.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            if !service_enabled(other) {
                return Err(at(
                    kind_span,
                    format!("store type {other:?} needs godwit built with `--features {feature}`"),
                ));
            }
            only(&["root", "options", "secret_env"])?;
            let mut options = s.options.clone();
            if let Some(r) = &s.root {
                options.insert("root".into(), value(r)?);
            }
            let mut secrets = BTreeMap::new();
            for (opt, var) in &s.secret_env {
                let v = env_secret(var, env)
                    .map_err(|m| at(kind_span.clone(), format!("store {name}: {m}")))?;
                secrets.insert(opt.clone(), v);
            }
            StoreKind::Service {
                scheme: other.to_owned(),
                options,
                secrets,
            }
        }
    };
    Ok(Store { kind, url_prefixes })
}

/// The password part of a URL-style DSN, if any.
pub(super) fn dsn_password(dsn: &str) -> Option<&str> {
    let rest = &dsn[dsn.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo
        .split_once(':')
        .map(|(_, pw)| pw)
        .filter(|pw| !pw.is_empty())
}

/// Resolves `${NAME}` references from the environment.
pub(super) fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated ${...} reference".to_owned())?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid environment variable name {name:?}"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        // Anything that comes from the environment may be a secret.
        crate::redact::register(&value);
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Whether this build includes the opendal service for a feature-gated
/// store type (the cargo features `store-*`; the blob capability opens them).
pub fn service_enabled(scheme: &str) -> bool {
    match scheme {
        "gcs" => cfg!(feature = "store-gcs"),
        "azblob" => cfg!(feature = "store-azblob"),
        "oss" => cfg!(feature = "store-oss"),
        "cos" => cfg!(feature = "store-cos"),
        "obs" => cfg!(feature = "store-obs"),
        "webdav" => cfg!(feature = "store-webdav"),
        _ => false,
    }
}
