#!/usr/bin/python3
# -*- coding: utf-8 -*-
# lbx.lbx.lbx_model: bring a director to an lbx model with lbx plan/apply.
# Python 3, ansible-core only. Tested by test/ansible in the lbx repository.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lbx_model
short_description: Plan and apply an lbx model (IPVS, addresses, routes, VRRP) on a director
description:
  - Runs C(lbx plan -o json) and, outside check mode, C(lbx apply -o json) on the target.
  - In check mode nothing is written (neither the model file nor the kernel); C(changed)
    and the diff come from the plan, which also lists what a reload would change in a
    running C(lbx watch) (VRRP instances, checks).
  - Errors fail the task with every positioned message of the model, named after
    I(src_name) (the template), never after a temporary file.
  - Idempotent, a second run reports C(changed=false).
options:
  path:
    description:
      - The model file on the director (the file C(lbx watch) runs, for example /etc/lbx/lbx.yaml).
      - With I(content), the content is written there (only outside check mode, only once the
        plan of the content succeeded, atomically); without it, the file is used as it is.
    type: path
  content:
    description:
      - The model's text, for example C("{{ lookup('template', 'lbx.yaml.j2') }}").
      - At least one of I(path) and I(content) is required.
    type: str
  src_name:
    description:
      - The name positions in error messages use (the template's name).
        Default I(path), or C(content) when only I(content) is given.
    type: str
  node:
    description: The director's node name in a fleet model (C(lbx --node NAME)); default the host name.
    type: str
  live:
    description:
      - An exported state (C(lbx export > live.yaml)) to plan against instead of the kernel,
        for CI without IPVS or root.
      - It only plans, so the task fails outside check mode.
    type: path
  lbx_path:
    description: The lbx binary.
    type: str
    default: lbx
  netns:
    description: Work inside the network namespace /run/netns/NAME (C(--netns)).
    type: str
  state_dir:
    description: lbx's ownership record directory (C(--state-dir)).
    type: path
  run_dir:
    description: The directory of lbx's lock and of lbx watch's status socket (C(--run-dir)).
    type: path
  prune:
    description: Also delete IPVS services the model does not declare (C(--prune)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Directors follow the model
  lbx.lbx.lbx_model:
    path: /etc/lbx/lbx.yaml
    content: "{{ lookup('template', 'lbx.yaml.j2') }}"
    src_name: templates/lbx.yaml.j2
    node: "{{ inventory_hostname }}"

- name: CI, against a recorded state (ansible-playbook --check --diff)
  lbx.lbx.lbx_model:
    content: "{{ lookup('file', 'lbx.yaml') }}"
    src_name: lbx.yaml
    live: /srv/ci/director1-live.yaml
  check_mode: true
"""

RETURN = r"""
changed:
  description: The model file, the kernel or the running lbx watch changed (or would, in check mode).
  type: bool
added:
  description: Kernel objects created (apply; planned in check mode).
  type: int
updated:
  description: Kernel objects changed in place.
  type: int
deleted:
  description: Kernel objects deleted.
  type: int
kernel_writes:
  description: Netlink writes the apply made (0 in check mode).
  type: int
daemon_changes:
  description: Objects only lbx watch carries out that the reload changed (or would).
  type: list
resource_changes:
  description: The plan's kernel changes (lbx plan -o json resource_changes).
  type: list
notes:
  description: lbx's notes (VRRP addresses left to lbx watch, no IPVS...).
  type: list
diagnostics:
  description: On failure, every positioned error (file, line, column, path, message).
  type: list
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def lbx_args(p, *args):
    """The command line: lbx ARGS with the target's flags."""
    cmd = [p["lbx_path"]] + list(args)
    for flag, key in (("--node", "node"), ("--netns", "netns"), ("--state-dir", "state_dir"), ("--run-dir", "run_dir")):
        if p[key]:
            cmd += [flag, p[key]]
    if p["prune"]:
        cmd.append("--prune")
    return cmd


class Runner:
    """Runs lbx and reads its one JSON document, naming the model file as
    the user knows it (src_name) wherever lbx names it."""

    def __init__(self, module, model_file, display):
        self.module, self.model_file, self.display = module, model_file, display

    def rename(self, text):
        if not isinstance(text, str) or self.display == self.model_file:
            return text
        return text.replace(self.model_file, self.display)

    def run(self, *args):
        cmd = lbx_args(self.module.params, *args)
        rc, out, err = self.module.run_command(cmd)
        try:
            doc = json.loads(out)
        except ValueError:
            self.module.fail_json(msg="lbx printed no JSON document (exit %d): %s" % (rc, self.rename(err.strip() or out.strip())),
                                  rc=rc, cmd=cmd, stderr=self.rename(err))
        if not doc.get("ok"):
            self.fail(doc, rc, err)
        return doc

    def fail(self, doc, rc, err):
        e = doc.get("error") or {}
        diags = []
        for d in e.get("diagnostics") or []:
            d = dict(d)
            d["file"] = self.rename(d.get("file", ""))
            d["message"] = self.rename(d.get("message", ""))
            diags.append(d)
        msg = self.rename(e.get("message") or err.strip() or "lbx failed")
        extra = {k: doc[k] for k in ("changes", "changed", "added", "updated", "deleted", "kernel_writes") if k in doc}
        self.module.fail_json(msg=msg, rc=e.get("code", rc), kind=e.get("kind", "error"), diagnostics=diags,
                              stderr=self.rename(err), **extra)


def dump(obj):
    """An object of the plan as Ansible's diff shows it."""
    if obj is None:
        return ""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def diffs_of(plan, file_diff):
    """Ansible's diff: the model file, then one entry per changed object,
    the kernel's and the daemon's (marked)."""
    out = [file_diff] if file_diff else []
    for c in plan.get("resource_changes", []):
        ch = c.get("change", {})
        out.append({"before_header": c["address"], "after_header": c["address"],
                    "before": dump(ch.get("before")), "after": dump(ch.get("after"))})
    for c in (plan.get("daemon") or {}).get("changes", []):
        header = c["address"] + " (lbx watch)"
        out.append({"before_header": header, "after_header": header, "before": dump(c.get("before")), "after": dump(c.get("after"))})
    return out


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            content=dict(type="str"),
            src_name=dict(type="str"),
            node=dict(type="str"),
            live=dict(type="path"),
            lbx_path=dict(type="str", default="lbx"),
            netns=dict(type="str"),
            state_dir=dict(type="path"),
            run_dir=dict(type="path"),
            prune=dict(type="bool", default=False),
        ),
        required_one_of=[("path", "content")],
        supports_check_mode=True,
    )
    p = module.params
    if p["live"] and not module.check_mode:
        module.fail_json(msg="live plans against a recorded state and never applies: run the task in check mode (check_mode: true or --check)")
    tmpdir = tempfile.mkdtemp(prefix="lbx-model-", dir=module.tmpdir)
    try:
        run(module, p, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run(module, p, tmpdir):
    path, content = p["path"], p["content"]
    old = read(path) if path else None
    if content is not None:
        model_file = os.path.join(tmpdir, os.path.basename(path or "lbx.yaml"))
        with open(model_file, "w", encoding="utf-8") as f:
            f.write(content)
        display = p["src_name"] or path or "content"
    else:
        model_file = path
        display = p["src_name"] or path
        if old is None:
            module.fail_json(msg="%s: no such file (give content, or write the model there first)" % path)
    file_changed = content is not None and path is not None and old != content
    file_diff = None
    if file_changed:
        file_diff = {"before_header": path, "after_header": display, "before": old or "", "after": content}

    runner = Runner(module, model_file, display)
    plan_args = ["plan", "-f", model_file, "-o", "json"]
    if p["live"]:
        plan_args += ["--live", p["live"]]
    plan = runner.run(*plan_args)
    notes = [runner.rename(n) for n in plan.get("notes", [])]
    if content is not None and path:
        # The plan read a temporary copy: the daemon runs path.
        notes = [n for n in notes if not (n.startswith("lbx watch (pid") and " runs " + os.path.abspath(path) + "," in n)]
    daemon = plan.get("daemon") or {}
    result = dict(
        changed=bool(plan.get("changed")) or file_changed,
        resource_changes=plan.get("resource_changes", []),
        daemon_changes=daemon.get("changes", []),
        notes=notes,
        added=plan.get("summary", {}).get("add", 0),
        updated=plan.get("summary", {}).get("change", 0),
        deleted=plan.get("summary", {}).get("destroy", 0),
        kernel_writes=0,
    )
    if module._diff:
        result["diff"] = diffs_of(plan, file_diff)
    if module.check_mode:
        module.exit_json(**result)

    apply_file = model_file
    if content is not None and path:
        if file_changed:
            # Written in place of the old file at once (a rename in its
            # directory): lbx watch never reads half a model.
            staged = os.path.join(tmpdir, "staged")
            shutil.copyfile(model_file, staged)
            module.atomic_move(staged, path)
        apply_file = path
        runner.model_file = path  # lbx now names path; show src_name
    res = runner.run(*(["apply", "-f", apply_file, "--auto-approve", "-o", "json"]))
    result.update(
        changed=bool(res.get("changed")) or file_changed,
        added=res.get("added", 0),
        updated=res.get("updated", 0),
        deleted=res.get("deleted", 0),
        kernel_writes=res.get("kernel_writes", 0),
        daemon_changes=res.get("daemon_changes", []),
        notes=[runner.rename(n) for n in res.get("notes", [])] or notes,
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
