//! Git sources, read with `gix` (pure Rust, no `git` binary needed): the tree at HEAD, the index
//! (`--staged`, for a pre-commit hook) and the full history (`--history`).
//!
//! History: every commit reachable from every ref (and HEAD) is ordered parents-first; walking the
//! trees in that order, each tree and each blob is visited once, so a blob is attributed to the
//! first commit and path that introduced it and scanned exactly once. Findings of the same secret
//! at the same path in later blobs collapse onto that first introduction, and each finding says
//! whether the secret is still in the tree at HEAD.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use rayon::prelude::*;

use super::{Stats, scan_buffer};
use crate::ScanError;
use crate::finding::{Finding, Origin};
use crate::matcher::Matcher;
use crate::progress::Progress;

/// One blob to scan and where it was first seen.
#[derive(Clone, Debug)]
pub struct BlobJob {
    /// The blob.
    pub id: ObjectId,
    /// Repository-relative path, `/`-separated.
    pub path: String,
    /// The commit that introduced it, if any (none for index entries).
    pub commit: Option<ObjectId>,
    /// Position of that commit in parents-first order (for collapsing repeats).
    pub order: usize,
}

/// An opened repository and the jobs listed from it.
pub struct GitWork {
    repo: gix::ThreadSafeRepository,
    /// The blobs to scan.
    pub jobs: Vec<BlobJob>,
    /// Blob ids in HEAD's tree (history mode only), for `at_head`.
    head_blobs: Option<HashSet<ObjectId>>,
}

fn git_err(context: &'static str) -> impl Fn(gix::Error) -> ScanError {
    move |e| ScanError::Git(format!("{context}: {e}"))
}

fn open(root: &Path) -> Result<gix::Repository, ScanError> {
    let mut repo = gix::discover(root).map_err(git_err("opening the repository"))?;
    repo.object_cache_size_if_unset(16 * 1024 * 1024);
    Ok(repo)
}

/// Lists the blobs in HEAD's tree, attributed to the HEAD commit.
pub fn list_head(root: &Path) -> Result<GitWork, ScanError> {
    let repo = open(root)?;
    let (commit, tree) = {
        let head = repo.head_commit().map_err(git_err("reading HEAD"))?;
        (
            Some(head.id),
            head.tree_id()
                .map_err(git_err("reading HEAD's tree"))?
                .detach(),
        )
    };
    let mut jobs = Vec::new();
    walk_tree(
        &repo,
        tree,
        &mut HashSet::new(),
        &mut HashSet::new(),
        &mut |id, path| {
            jobs.push(BlobJob {
                id,
                path,
                commit,
                order: 0,
            });
        },
    )?;
    Ok(GitWork {
        repo: repo.into_sync(),
        jobs,
        head_blobs: None,
    })
}

/// Lists the index entries that differ from HEAD: what the next commit would add.
pub fn list_staged(root: &Path) -> Result<GitWork, ScanError> {
    let repo = open(root)?;
    let mut at_head: HashMap<String, ObjectId> = HashMap::new();
    if let Ok(tree) = repo.head_tree_id() {
        walk_tree(
            &repo,
            tree.detach(),
            &mut HashSet::new(),
            &mut HashSet::new(),
            &mut |id, path| {
                at_head.insert(path, id);
            },
        )?;
    }
    let index = repo.open_index().map_err(git_err("reading the index"))?;
    let mut jobs = Vec::new();
    for entry in index.entries() {
        if entry.stage_raw() != 0 || entry.mode.is_submodule() || entry.mode.is_sparse() {
            continue;
        }
        if entry.mode.to_tree_entry_mode().is_some_and(|m| m.is_link()) || entry.id.is_null() {
            continue;
        }
        let path = entry.path(&index).to_str_lossy().into_owned();
        if at_head.get(&path) == Some(&entry.id) {
            continue;
        }
        jobs.push(BlobJob {
            id: entry.id,
            path,
            commit: None,
            order: 0,
        });
    }
    Ok(GitWork {
        repo: repo.into_sync(),
        jobs,
        head_blobs: None,
    })
}

/// Lists every blob reachable from every ref, each once, attributed to its first commit and path.
pub fn list_history(root: &Path) -> Result<GitWork, ScanError> {
    let repo = open(root)?;
    let order = commits_parents_first(&repo)?;
    let (mut seen_trees, mut seen_blobs) = (HashSet::new(), HashSet::new());
    let mut jobs = Vec::new();
    for (position, (commit, tree)) in order.iter().enumerate() {
        walk_tree(
            &repo,
            *tree,
            &mut seen_trees,
            &mut seen_blobs,
            &mut |id, path| {
                jobs.push(BlobJob {
                    id,
                    path,
                    commit: Some(*commit),
                    order: position,
                });
            },
        )?;
    }
    let mut head_blobs = HashSet::new();
    if let Ok(tree) = repo.head_tree_id() {
        walk_tree(
            &repo,
            tree.detach(),
            &mut HashSet::new(),
            &mut HashSet::new(),
            &mut |id, _| {
                head_blobs.insert(id);
            },
        )?;
    }
    Ok(GitWork {
        repo: repo.into_sync(),
        jobs,
        head_blobs: Some(head_blobs),
    })
}

/// Every commit reachable from any ref or HEAD, parents before children (ties: older first),
/// with its tree id.
fn commits_parents_first(repo: &gix::Repository) -> Result<Vec<(ObjectId, ObjectId)>, ScanError> {
    let mut tips: Vec<ObjectId> = Vec::new();
    let platform = repo.references().map_err(git_err("listing refs"))?;
    for reference in platform.all().map_err(git_err("listing refs"))? {
        let Ok(mut reference) = reference else {
            continue;
        };
        if let Ok(id) = reference.peel_to_id() {
            tips.push(id.detach());
        }
    }
    if let Ok(id) = repo.head_id() {
        tips.push(id.detach());
    }

    struct Info {
        parents: Vec<ObjectId>,
        tree: ObjectId,
        time: i64,
    }
    let mut commits: HashMap<ObjectId, Info> = HashMap::new();
    let mut stack = tips;
    while let Some(id) = stack.pop() {
        if commits.contains_key(&id) {
            continue;
        }
        let object = repo.find_object(id).map_err(git_err("reading a commit"))?;
        if object.kind != gix::objs::Kind::Commit {
            continue; // a ref to a tree or blob: not history
        }
        let commit = object.into_commit();
        let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
        let tree = commit
            .tree_id()
            .map_err(git_err("reading a commit"))?
            .detach();
        let time = commit.time().map(|t| t.seconds).unwrap_or(0);
        stack.extend(parents.iter().copied());
        commits.insert(
            id,
            Info {
                parents,
                tree,
                time,
            },
        );
    }

    // Kahn's algorithm; the heap picks the oldest ready commit first.
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    let mut pending: HashMap<ObjectId, usize> = HashMap::new();
    for (id, info) in &commits {
        let known = info
            .parents
            .iter()
            .filter(|p| commits.contains_key(*p))
            .count();
        pending.insert(*id, known);
        for p in &info.parents {
            children.entry(*p).or_default().push(*id);
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| Reverse((commits[id].time, *id)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push((id, commits[&id].tree));
        for child in children.get(&id).into_iter().flatten() {
            let n = pending
                .get_mut(child)
                .expect("every child is a known commit");
            *n -= 1;
            if *n == 0 {
                ready.push(Reverse((commits[child].time, *child)));
            }
        }
    }
    Ok(order)
}

/// Depth-first walk of `tree`, calling `visit(blob, path)` for each regular or executable blob
/// not yet in `seen_blobs`, and not descending into trees already in `seen_trees` (everything in
/// them has been visited).
fn walk_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    seen_trees: &mut HashSet<ObjectId>,
    seen_blobs: &mut HashSet<ObjectId>,
    visit: &mut dyn FnMut(ObjectId, String),
) -> Result<(), ScanError> {
    if !seen_trees.insert(tree) {
        return Ok(());
    }
    let mut stack = vec![(tree, String::new())];
    while let Some((id, prefix)) = stack.pop() {
        let tree = repo.find_tree(id).map_err(git_err("reading a tree"))?;
        let decoded = tree.decode().map_err(git_err("decoding a tree"))?;
        for entry in &decoded.entries {
            let path = if prefix.is_empty() {
                entry.filename.to_str_lossy().into_owned()
            } else {
                format!("{prefix}/{}", entry.filename.to_str_lossy())
            };
            let oid = entry.oid.to_owned();
            if entry.mode.is_tree() {
                if seen_trees.insert(oid) {
                    stack.push((oid, path));
                }
            } else if entry.mode.is_blob() && seen_blobs.insert(oid) {
                visit(oid, path);
            }
        }
    }
    Ok(())
}

/// One scanned blob: its commit's position, whether it is in HEAD's tree, findings, counters.
type BlobOutcome = (usize, bool, Vec<Finding>, Stats);

impl GitWork {
    /// Total number of blobs, for the progress bar.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether there is nothing to scan.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Scans every job in parallel (one repository handle per worker thread), then — for history —
    /// collapses repeats of a secret at a path onto its first commit and fills in `at_head`.
    pub fn scan(
        &self,
        matcher: &Matcher,
        max_size: u64,
        progress: &Progress,
    ) -> Result<(Vec<Finding>, Stats), ScanError> {
        let results: Vec<Result<BlobOutcome, ScanError>> = self
            .jobs
            .par_iter()
            .map_init(
                || self.repo.to_thread_local(),
                |repo, job| {
                    let object = repo
                        .find_object(job.id)
                        .map_err(git_err("reading a blob"))?;
                    let origin = Origin {
                        path: job.path.clone(),
                        commit: job.commit.map(|c| c.to_string()),
                    };
                    let (findings, stats) = scan_buffer(matcher, &object.data, &origin, max_size);
                    progress.inc(object.data.len() as u64);
                    let in_head = self
                        .head_blobs
                        .as_ref()
                        .is_some_and(|h| h.contains(&job.id));
                    Ok((job.order, in_head, findings, stats))
                },
            )
            .collect();
        let mut stats = Stats::default();
        let mut all: Vec<(usize, bool, Finding)> = Vec::new();
        for result in results {
            let (order, in_head, findings, s) = result?;
            stats.add(s);
            all.extend(findings.into_iter().map(|f| (order, in_head, f)));
        }
        let Some(_) = self.head_blobs else {
            return Ok((all.into_iter().map(|(_, _, f)| f).collect(), stats));
        };
        let at_head: HashSet<String> = all
            .iter()
            .filter(|(_, h, _)| *h)
            .map(|(_, _, f)| f.fingerprint.clone())
            .collect();
        all.sort_by(|a, b| (a.0, &a.2.path, a.2.line).cmp(&(b.0, &b.2.path, b.2.line)));
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut out = Vec::new();
        for (_, _, mut finding) in all {
            if seen.insert((finding.fingerprint.clone(), finding.path.clone())) {
                finding.at_head = Some(at_head.contains(&finding.fingerprint));
                out.push(finding);
            }
        }
        Ok((out, stats))
    }
}
