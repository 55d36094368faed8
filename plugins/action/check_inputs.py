"""Check a role's inputs against their kinds, on the controller, before anything changes.

Reads each named variable from the play (templated as the role would see it), checks it with
plugins/module_utils/inputs.py and fails once with every problem, each naming its variable.
Runs no code on the host, so it is safe in check mode and before the first change.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.inferops.inference.plugins.module_utils.inputs import check_all


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        inputs = self._task.args.get("inputs")
        if not isinstance(inputs, dict) or not inputs:
            raise AnsibleActionFail("check_inputs needs 'inputs': a mapping of variable name to kind")
        values = {}
        for name in inputs:
            if name in task_vars:
                values[name] = self._templar.template(task_vars[name])
        problems = check_all(inputs, values)
        result["checked"] = sorted(inputs)
        if problems:
            result["failed"] = True
            result["msg"] = "Invalid input, nothing was changed: " + " | ".join(problems)
            result["problems"] = problems
        else:
            result["msg"] = f"{len(inputs)} inputs checked"
        return result
