"""Software configs as resources (``SoftwareConfig``, ``CloudConfig``, ``MultipartMime``), kept by
Orchestration's own ``/software_configs`` API (called over HTTP with the owner's trust like any other
service), and wait conditions: ``WaitConditionHandle`` gives a URL and a token a guest signals with
``curl``; ``WaitCondition`` is done once its handle has ``count`` successes."""

from __future__ import annotations

import json
import secrets
import uuid
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

from onestack.services.orchestration.service import presign
from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources import swiftsignal
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    PropertyError,
    ResourceFailure,
    ResourceType,
    apply_schema,
    gone,
    ignore_missing,
)
from onestack.services.orchestration.service.resources.nested import ResourceGroup

UNGROUPED = "Heat::Ungrouped"
# Heat's signal transports.  ZAQAR_SIGNAL needs a messaging service, which onestack does not have: it is
# refused by name (a 400 saying why), never silently ignored.  CFN_SIGNAL's pre-signed URL is one of the
# orchestration API's own (``service/presign.py``): onestack serves no CloudFormation API.
TRANSPORTS = ("CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "ZAQAR_SIGNAL", "NO_SIGNAL")
REFUSED_TRANSPORTS = {
    "ZAQAR_SIGNAL": "it needs a messaging service (Zaqar), which this cloud does not have; use "
                    "TEMP_URL_SIGNAL or HEAT_SIGNAL",
}


def with_known_transport(properties, path: str):
    """``properties`` unless their ``signal_transport`` is one this cloud cannot carry (a 400 naming it)."""
    transport = properties.get("signal_transport") if isinstance(properties, dict) else None
    if transport in REFUSED_TRANSPORTS:
        raise PropertyError(f"{path}.signal_transport",
                            f"{transport} is not supported by this cloud: {REFUSED_TRANSPORTS[transport]}")
    return properties


def config_content(h: Handle, value: str) -> str:
    """``value`` itself, or the config of the software config it names (as Heat resolves user_data)."""
    try:
        uuid.UUID(value)
    except (ValueError, TypeError):
        return value
    try:
        return h.cloud.get("orchestration", f"/software_configs/{value}")["software_config"]["config"]
    except CloudError as exc:
        if exc.status == 404:
            return value
        raise


def declared_inputs(source: list, values: dict) -> list[dict]:
    """A config's inputs as a deployment's own config declares them (Heat's derived config): the source's,
    each with its value, then every other value given (the ``deploy_*`` ones the stack adds) as a String."""
    inputs = [{**i, "value": values.get(i.get("name"), i.get("default"))} for i in source or [] if isinstance(i, dict)]
    known = {i.get("name") for i in inputs}
    return inputs + [{"name": k, "type": "String", "value": v} for k, v in values.items() if k not in known]


class SoftwareConfigBase(ResourceType):
    """A config made once (a change makes a new one: configs are immutable)."""

    local_attributes = True
    attributes = {"config": "The config value of the software config."}

    def body(self, h: Handle) -> dict:
        raise NotImplementedError

    def create(self, h: Handle) -> None:
        body = {"name": h.physical_name(), **self.body(h)}
        h.physical_id = h.cloud.post("orchestration", "/software_configs", body)["software_config"]["id"]
        h.data["config"] = body.get("config", "")

    def find(self, h: Handle) -> str | None:
        name = h.data.get("physical_name")
        found = [c for c in h.cloud.get("orchestration", "/software_configs")["software_configs"]
                 if name and c["name"] == name]
        if len(found) != 1:
            return None
        h.data["config"] = h.cloud.get("orchestration", f"/software_configs/{found[0]['id']}")[
            "software_config"]["config"]
        return found[0]["id"]

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("orchestration", f"/software_configs/{h.physical_id}"))

    def delete_done(self, h: Handle) -> bool:
        return gone(lambda: h.cloud.get("orchestration", f"/software_configs/{h.physical_id}"))

    def attribute(self, h: Handle, name: str) -> Any:
        if name == "config":
            return h.data.get("config")
        if name == "show":
            return {"id": h.physical_id, "config": h.data.get("config")}
        return None


IO = Prop("map", schema={
    "name": Prop("string", "Name of the input or output.", required=True),
    "description": Prop("string", "Description of the input or output."),
    "type": Prop("string", "Type of the value.", default="String",
                 allowed=("String", "Number", "CommaDelimitedList", "Json", "Boolean")),
    "default": Prop("any", "Default value for the input if none is specified."),
    "replace_on_change": Prop("boolean", "Replace the deployment when this input changes.", default=False),
    "error_output": Prop("boolean", "Denotes that the deployment is in an error state if this output has a "
                         "value.", default=False),
})


class SoftwareConfig(SoftwareConfigBase):
    name = "OS::Heat::SoftwareConfig"
    description = "A resource for describing and storing software configuration."
    properties = {
        "group": Prop("string", "Namespace to group this software config by when delivered to a server.",
                      default=UNGROUPED),
        "config": Prop("string", "Configuration script or manifest which specifies what actual configuration "
                       "is performed.", default=""),
        "options": Prop("map", "Map containing options specific to the configuration management tool used by "
                        "this resource."),
        "inputs": Prop("list", "Schema representing the inputs that this software config is expecting.",
                       default=[], schema=IO),
        "outputs": Prop("list", "Schema representing the outputs that this software config will produce.",
                        default=[], schema=IO),
    }

    def body(self, h: Handle) -> dict:
        p = h.properties
        return {"group": p["group"], "config": p["config"], "options": p.get("options") or {},
                "inputs": p["inputs"], "outputs": p["outputs"]}


class CloudConfig(SoftwareConfigBase):
    name = "OS::Heat::CloudConfig"
    description = "A configuration resource for representing cloud-init cloud-config."
    properties = {"cloud_config": Prop("map", "Map representing the cloud-config data structure which will "
                                       "be formatted as YAML.", default={})}

    def body(self, h: Handle) -> dict:
        text = yaml.safe_dump(h.properties["cloud_config"] or {}, default_flow_style=False, sort_keys=False)
        return {"group": UNGROUPED, "config": f"#cloud-config\n{text}"}


class MultipartMime(SoftwareConfigBase):
    name = "OS::Heat::MultipartMime"
    description = "Assembles a collection of software configurations as a multi-part mime message."
    properties = {
        "parts": Prop("list", "Parts belonging to this message.", default=[], schema=Prop("map", schema={
            "config": Prop("string", "Content of part to attach, either inline or by referencing the ID of "
                           "another software config resource.", required=True),
            "filename": Prop("string", "Optional filename to associate with part."),
            "type": Prop("string", "Whether the part content is text or multipart.", default="text",
                         allowed=("text", "multipart")),
            "subtype": Prop("string", "Optional subtype to specify with the type."),
        })),
        "group": Prop("string", "Namespace to group this software config by when delivered to a server.",
                      default=UNGROUPED),
    }

    def body(self, h: Handle) -> dict:
        message = MIMEMultipart()
        for part in h.properties["parts"]:
            content = config_content(h, part["config"])
            if part["type"] == "multipart":
                sub = MIMEText(content, part.get("subtype") or "mixed")
                sub.replace_header("Content-Type", f"multipart/{part.get('subtype') or 'mixed'}")
            else:
                subtype = part.get("subtype") or ("cloud-config" if content.startswith("#cloud-config")
                                                  else "x-shellscript" if content.startswith("#!") else "plain")
                # Plain text stays readable in the guest's metadata; only non-ASCII is base64-encoded.
                sub = MIMEText(content, subtype, "us-ascii" if content.isascii() else "utf-8")
            if part.get("filename"):
                sub.add_header("Content-Disposition", "attachment", filename=part["filename"])
            message.attach(sub)
        return {"group": h.properties["group"], "config": message.as_string()}


class WaitConditionHandle(ResourceType):
    name = "OS::Heat::WaitConditionHandle"
    description = ("Resource for managing token-signalled wait conditions: a guest POSTs its status to the "
                   "endpoint with the token (see curl_cli), or PUTs it to a TempURL (TEMP_URL_SIGNAL).")
    properties = {"signal_transport": Prop(
        "string", "How the client will signal the wait condition. CFN_SIGNAL will allow an HTTP POST to a "
        "pre-signed URL (onestack: of the orchestration API). TEMP_URL_SIGNAL will create a Swift TempURL to be "
        "signalled via HTTP PUT. HEAT_SIGNAL will allow calls to the Heat API resource-signal. ZAQAR_SIGNAL "
        "needs a messaging service, which this cloud does not have. TOKEN_SIGNAL will allow an HTTP POST to a "
        "Heat API endpoint with the provided keystone token (onestack: the handle's own token). NO_SIGNAL will "
        "result in the resource going to a signalled state without waiting for any signal.",
        default="TOKEN_SIGNAL", allowed=("CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL",
                                         "ZAQAR_SIGNAL", "TOKEN_SIGNAL"))}
    attributes = {
        "token": "Token for stack-user which can be used for signalling handle.",
        "endpoint": "Endpoint/url which can be used for signalling handle.",
        "curl_cli": "Convenience attribute, provides curl CLI command prefix, which can be used for signalling "
                    "handle completion or failure.  You can signal success by adding --data-binary "
                    "'{\"status\": \"SUCCESS\"}' , or signal failure by adding --data-binary "
                    "'{\"status\": \"FAILURE\"}'.",
        "signal": "JSON serialized map that includes the endpoint, token and/or other attributes the client "
                  "must use for signalling this handle.",
    }
    local_attributes = True
    signalable = True

    @classmethod
    def schema_apply(cls, values, path: str) -> dict:
        return with_known_transport(apply_schema(cls.properties, values, path), path)

    def create(self, h: Handle) -> None:
        h.data.setdefault("signal_token", secrets.token_urlsafe(32))
        h.data["transport"] = h.properties["signal_transport"]  # what a wait condition reads
        if h.properties["signal_transport"] == "TEMP_URL_SIGNAL":
            name = h.physical_name()
            h.data["signal_url"] = swiftsignal.make_signal_object(h, name, name)
        h.physical_id = h.physical_name()

    def delete(self, h: Handle) -> None:
        if h.data.get("signal_url"):
            swiftsignal.remove_signal_object(h, h.physical_name())

    def reference(self, h: Handle):
        return h.physical_id

    def attribute(self, h: Handle, name: str) -> Any:
        transport = h.properties.get("signal_transport") or "TOKEN_SIGNAL"
        token = h.data.get("signal_token", "")
        endpoint = (f"{h.signal_base}/orchestration/v1/{h.stack.project_id}/stacks/{h.stack.name}/{h.stack.id}"
                    f"/resources/{h.name}/signal")
        if transport == "TEMP_URL_SIGNAL":
            url = h.data.get("signal_url")
            return {"endpoint": url, "curl_cli": f"curl -i -X PUT '{url}'" if url else None,
                    "signal": json.dumps({"alarm_url": url})}.get(name)
        if transport == "CFN_SIGNAL":
            signed = presign.signature(token, h.stack.project_id, h.stack.name, h.stack.id, h.name)
            url = f"{endpoint}?signature={signed}"
            return {"endpoint": url, "signal": json.dumps({"alarm_url": url}),
                    "curl_cli": (f"curl -i -X POST -H 'Content-Type: application/json' -H 'Accept: "
                                 f"application/json' '{url}'")}.get(name)
        if transport == "NO_SIGNAL":
            return json.dumps({}) if name == "signal" else None
        if name == "token":
            return token
        if name == "endpoint":
            return endpoint
        if name == "curl_cli":
            return (f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
                    f"-H 'Accept: application/json' {endpoint}")
        if name == "signal":
            if transport == "HEAT_SIGNAL":
                return json.dumps({"alarm_url": endpoint, "token": token, "project_id": h.stack.project_id})
            return json.dumps({"endpoint": endpoint, "token": token})
        return None

    @classmethod
    def take_signal(cls, data: dict, body, action: str) -> dict:
        signals = list(data.get("signals", []))
        if body is None or body == {}:
            body = {}
        if not isinstance(body, dict):
            raise ResourceFailure("Metadata format invalid: the signal must be a JSON object", "BadRequest")
        status = body.get("status", "SUCCESS")
        if status not in ("SUCCESS", "FAILURE"):
            raise ResourceFailure(f"Metadata format invalid: status {status!r} is not SUCCESS or FAILURE",
                                  "BadRequest")
        number = str(len(signals) + 1)
        signal = {"status": status, "reason": str(body.get("reason") or f"Signal {number} received"),
                  "data": body.get("data"), "id": str(body.get("id") or number)}
        signals = [s for s in signals if s.get("id") != signal["id"]] + [signal]
        return {**data, "signals": signals}

    @classmethod
    def signal_reason(cls, body) -> str:
        status = body.get("status", "SUCCESS") if isinstance(body, dict) else "SUCCESS"
        return f"Signal: status:{status} reason:{(body or {}).get('reason') if isinstance(body, dict) else ''}"


class WaitCondition(swiftsignal.SignalCount):
    name = "OS::Heat::WaitCondition"
    failure_code, timeout_code = "WaitConditionFailure", "WaitConditionTimeout"
    description = "Resource for handling signals received by WaitConditionHandle."
    properties = {
        "handle": Prop("string", "A reference to the wait condition handle used to signal this wait condition.",
                       required=True),
        "timeout": Prop("number", "The number of seconds to wait for the correct number of signals to arrive.",
                        required=True, min=1, max=43200),
        "count": Prop("integer", "The number of success signals that must be received before the stack "
                      "creation process continues.", default=1, min=1, update=True),
    }
    attributes = {"data": "JSON string containing data associated with wait condition signals sent to the "
                          "handle."}

    def _signals(self, h: Handle) -> list[dict]:
        record = h.stacks.sibling_data(h.properties["handle"])
        if record is None:
            raise ResourceFailure(f"The wait condition handle {h.properties['handle']} is not a resource of "
                                  "this stack", "StackValidationFailed")
        signals = list(record.get("signals", []))
        if record.get("signal_url"):  # TEMP_URL_SIGNAL: each PUT to the handle's object is one more
            name = record["physical_name"]
            bodies = swiftsignal.read_signals(h, name, name)
            signals += [swiftsignal.parse_signal(body, len(signals) + i) for i, body in enumerate(bodies, 1)]
        return signals

    def create_done(self, h: Handle) -> bool:
        if (h.stacks.sibling_data(h.properties["handle"]) or {}).get("transport") == "NO_SIGNAL":
            return True  # a handle that takes no signal: nothing to wait for, as Heat's
        return super().create_done(h)


class SoftwareDeployment(ResourceType):
    """A software config deployed to a server: a record of the ``/software_deployments`` API, which an agent
    on the server reads (``/software_deployments/metadata/{server}``) and reports back to.  With
    ``NO_SIGNAL`` it is complete once recorded; with ``HEAT_SIGNAL`` it waits until the agent reports, by a
    signal to the resource (``deploy_stdout``, ``deploy_stderr``, ``deploy_status_code``) or by setting the
    deployment's status through the API."""

    name = "OS::Heat::SoftwareDeployment"
    description = "This resource associates a server with some configuration."
    signalable = True
    signalled_while_deleting = True
    properties = {
        "config": Prop("string", "ID of software configuration resource to execute when applying to the "
                       "server.", update=True),
        "server": Prop("string", "ID of resource to apply configuration to.", required=True),
        "input_values": Prop("map", "Input values to apply to the software configuration on this server.",
                             default={}, update=True),
        "actions": Prop("list", "Which lifecycle actions of the deployment resource will result in this "
                        "deployment being triggered.", default=["CREATE", "UPDATE"], update=True,
                        schema=Prop("string", allowed=("CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME"))),
        "name": Prop("string", "Name of the derived config associated with this deployment."),
        "signal_transport": Prop("string", "How the server should signal to heat with the deployment output "
                                 "values. CFN_SIGNAL will allow an HTTP POST to a pre-signed URL (onestack: of the orchestration API). TEMP_URL_SIGNAL will create a Swift TempURL to be signaled via HTTP "
                                 "PUT. HEAT_SIGNAL will allow calls to the Heat API resource-signal (onestack: "
                                 "with the deploy_signal_token input as X-Auth-Token). ZAQAR_SIGNAL needs a "
                                 "messaging service, which this cloud does not have. NO_SIGNAL will result in "
                                 "the resource going to the COMPLETE state without waiting for any signal.",
                                 default="NO_SIGNAL", allowed=TRANSPORTS),
    }
    attributes = {"deploy_stdout": "Captured stdout from the configuration execution.",
                  "deploy_stderr": "Captured stderr from the configuration execution.",
                  "deploy_status_code": "Returned status code from the configuration execution."}

    def _path(self, h: Handle) -> str:
        return f"/software_deployments/{h.physical_id}"

    def _waits(self, h: Handle, action: str) -> bool:
        return h.properties["signal_transport"] != "NO_SIGNAL" and action in (h.properties.get("actions") or [])

    def _server(self, h: Handle) -> str:
        ref = h.properties["server"]
        try:
            return h.cloud.get("compute", f"/servers/{ref}")["server"]["id"]
        except CloudError as exc:
            if exc.status == 404:
                raise ResourceFailure(f"The server ({ref}) could not be found.", "NotFound") from None
            raise

    def _config(self, h: Handle, inputs: dict) -> str:
        """The config the deployment names: the ``config`` property's (``inputs`` matter only to a derived
        config, see StructuredDeployment)."""
        if h.properties.get("config"):
            return h.properties["config"]
        # no config: an empty one, as Heat deploys inputs alone
        made = h.cloud.post("orchestration", "/software_configs", {
            "name": h.physical_name(), "group": UNGROUPED, "config": "",
            "inputs": declared_inputs([], inputs)})["software_config"]
        h.data["own_config"] = made["id"]
        return made["id"]

    # -- what a kill -9 cut off ------------------------------------------------------------------------------
    # A step makes a config or a deployment with one request and the engine records its id with the next
    # write: a kill between the two leaves one that no resource names.  Each carries this resource's
    # ``deploy_stack_id`` and ``deploy_resource_name`` (a deployment in its input values, a config this
    # resource made among its declared inputs, as Heat's derived configs do), so the step's retry finds
    # and removes what no row of the stack claims.

    def _mine(self, h: Handle, values: dict) -> bool:
        return values.get("deploy_stack_id") == f"{h.stack.name}/{h.stack.id}" \
            and values.get("deploy_resource_name") == h.name

    def _sweep(self, h: Handle, keep: set[str]) -> None:
        """Remove this resource's deployments and configs that neither a row of the stack (``claimed``) nor
        the step under way (``keep``) names."""
        claimed = {*keep, *(h.stacks.claimed(h.name) if h.stacks is not None else set())}
        for found in h.cloud.get("orchestration", "/software_deployments")["software_deployments"]:
            if found["id"] not in claimed and self._mine(h, found.get("input_values") or {}):
                ignore_missing(lambda d=found: h.cloud.delete("orchestration", f"/software_deployments/{d['id']}"))
                swiftsignal.publish_server_metadata(h, found["server_id"])
        names = {h.properties.get("name"), h.data.get("physical_name")} - {None, ""}
        for found in h.cloud.get("orchestration", "/software_configs")["software_configs"]:
            if found["name"] not in names or found["id"] in claimed:
                continue
            try:
                inputs = h.cloud.get("orchestration", f"/software_configs/{found['id']}")["software_config"]["inputs"]
            except CloudError as exc:
                if exc.status == 404:
                    continue
                raise
            values = {i.get("name"): i.get("value") for i in inputs or [] if isinstance(i, dict)}
            if self._mine(h, values):
                ignore_missing(lambda c=found: h.cloud.delete("orchestration", f"/software_configs/{c['id']}"))

    def find(self, h: Handle) -> str | None:
        """A create cut by a kill -9 before its ids were recorded: what it made goes, and it starts again."""
        self._sweep(h, set())
        return None

    @classmethod
    def schema_apply(cls, values, path: str) -> dict:
        return with_known_transport(apply_schema(cls.properties, values, path), path)

    @staticmethod
    def _signal_endpoint(h: Handle) -> str:
        return (f"{h.signal_base}/orchestration/v1/{h.stack.project_id}/stacks/{h.stack.name}/{h.stack.id}"
                f"/resources/{h.name}/signal")

    def _signal_inputs(self, h: Handle, server_id: str, action: str) -> dict:
        """The ``deploy_*`` inputs Heat adds for the agent: what is deployed, and where and how to report."""
        transport = h.properties["signal_transport"]
        inputs = {"deploy_server_id": server_id, "deploy_action": action,
                  "deploy_stack_id": f"{h.stack.name}/{h.stack.id}", "deploy_resource_name": h.name,
                  "deploy_signal_transport": transport}
        if transport == "TEMP_URL_SIGNAL":
            name = h.physical_name()
            h.data["signal_url"] = swiftsignal.make_signal_object(h, name, name)
            inputs.update(deploy_signal_id=h.data["signal_url"], deploy_signal_verb="PUT")
        elif transport == "CFN_SIGNAL":
            token = h.data.setdefault("signal_token", secrets.token_urlsafe(32))
            signed = presign.signature(token, h.stack.project_id, h.stack.name, h.stack.id, h.name)
            inputs.update(deploy_signal_id=f"{self._signal_endpoint(h)}?signature={signed}",
                          deploy_signal_verb="POST")
        elif transport == "HEAT_SIGNAL":
            # onestack's resource signal takes the resource's own secret as X-Auth-Token (as a wait
            # condition handle's token): the agent needs no Keystone user of its own.
            token = h.data.setdefault("signal_token", secrets.token_urlsafe(32))
            inputs.update(deploy_signal_id=self._signal_endpoint(h),
                          deploy_signal_verb="POST", deploy_signal_token=token,
                          deploy_project_id=h.stack.project_id)
        return inputs

    def _reports_before(self, h: Handle, action: str) -> None:
        """TEMP_URL_SIGNAL: how many bodies the object already holds, so the action waits for a new one."""
        if h.properties["signal_transport"] == "TEMP_URL_SIGNAL":
            name = h.physical_name()
            h.data["reports_before"] = {"action": action,
                                        "count": len(swiftsignal.read_signals(h, name, name))}

    def create(self, h: Handle) -> None:
        waits = self._waits(h, "CREATE")
        server = self._server(h)
        h.data["server_id"] = server
        inputs = {**(h.properties.get("input_values") or {}), **self._signal_inputs(h, server, "CREATE")}
        if "reports_before" not in h.data:
            self._reports_before(h, "CREATE")
        body = {"config_id": self._config(h, inputs), "server_id": server, "action": "CREATE",
                "input_values": inputs,
                "status": "IN_PROGRESS" if waits else "COMPLETE",
                "status_reason": "Deploy data available" if waits else "Not waiting for outputs signal"}
        h.physical_id = h.cloud.post("orchestration", "/software_deployments", body)["software_deployment"]["id"]
        swiftsignal.publish_server_metadata(h, server)

    def _object_report(self, h: Handle, action: str) -> None:
        """TEMP_URL_SIGNAL: a body PUT since the action began is the agent's report, taken as a signal."""
        name = h.physical_name()
        bodies = swiftsignal.read_signals(h, name, name)
        before = h.data.get("reports_before") or {}
        if before.get("action") == action and len(bodies) > before.get("count", 0) and not any(
                s.get("action") == action for s in h.data.get("signals", [])):
            try:
                report = json.loads(bodies[-1]) if bodies[-1].strip() else {}
            except ValueError:
                raise ResourceFailure(f"Failed to parse JSON data: {bodies[-1][:200]}", "Error") from None
            if not isinstance(report, dict):
                raise ResourceFailure(f"Failed to parse JSON data: {bodies[-1][:200]}", "Error")
            h.data["signals"] = [*h.data.get("signals", []), {**report, "action": action}]

    def _done(self, h: Handle, action: str) -> bool:
        if not self._waits(h, action):
            return True
        if h.properties["signal_transport"] == "TEMP_URL_SIGNAL":
            self._object_report(h, action)
        signals = [s for s in h.data.get("signals", []) if s.get("action") == action]
        if signals:  # the agent's report, through the resource's signal
            report = signals[-1]
            code = report.get("deploy_status_code") or 0
            outputs = {k: v for k, v in report.items() if k != "action"}
            failed = str(code) not in ("0", "")
            reason = (f"deploy_status_code : Deployment exited with non-zero status code: {code}" if failed
                      else "Outputs received")
            h.cloud.put("orchestration", self._path(h), {"status": "FAILED" if failed else "COMPLETE",
                                                         "status_reason": reason, "output_values": outputs})
        deployment = h.cloud.get("orchestration", self._path(h))["software_deployment"]
        if deployment["status"] == "FAILED":
            raise ResourceFailure(f"Deployment to server failed: {deployment.get('status_reason') or 'Unknown'}",
                                  "Error")
        return deployment["status"] == "COMPLETE"

    def create_done(self, h: Handle) -> bool:
        return self._done(h, "CREATE")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        waits = self._waits(h, "UPDATE")
        h.data["signals"] = [s for s in h.data.get("signals", []) if s.get("action") != "UPDATE"]
        self._reports_before(h, "UPDATE")
        server = h.cloud.get("orchestration", self._path(h))["software_deployment"]["server_id"]
        inputs = {**(new.get("input_values") or {}), **self._signal_inputs(h, server, "UPDATE")}
        h.cloud.put("orchestration", self._path(h), {
            "config_id": self._updated_config(h, old, new, inputs), "action": "UPDATE",
            "input_values": inputs, "status": "IN_PROGRESS" if waits else "COMPLETE",
            "status_reason": "Deploy data available" if waits else "Not waiting for outputs signal"})
        self._updated(h)
        swiftsignal.publish_server_metadata(h, server)

    def _updated_config(self, h: Handle, old: dict, new: dict, inputs: dict) -> str:
        """The config an update deploys."""
        return new.get("config") or h.data.get("own_config") or old.get("config")

    def _updated(self, h: Handle) -> None:
        """Once the deployment names its updated config (a derived config's type removes the old one, and
        any a cut try of this update derived)."""

    def update_done(self, h: Handle) -> bool:
        return self._done(h, "UPDATE")

    def _trigger(self, h: Handle, action: str) -> None:
        """DELETE, SUSPEND or RESUME among ``actions``: the deployment is given that action for the agent to
        run, and the resource waits for its report as for a create."""
        h.data["signals"] = [s for s in h.data.get("signals", []) if s.get("action") != action]
        self._reports_before(h, action)
        deployment = h.cloud.get("orchestration", self._path(h))["software_deployment"]
        inputs = {**(h.properties.get("input_values") or {}),
                  **self._signal_inputs(h, deployment["server_id"], action)}
        h.cloud.put("orchestration", self._path(h), {"action": action, "input_values": inputs,
                                                     "status": "IN_PROGRESS",
                                                     "status_reason": "Deploy data available"})
        swiftsignal.publish_server_metadata(h, deployment["server_id"])

    def suspend(self, h: Handle) -> None:
        if h.physical_id and self._waits(h, "SUSPEND"):
            self._trigger(h, "SUSPEND")

    def suspend_done(self, h: Handle) -> bool:
        return not h.physical_id or self._done(h, "SUSPEND")

    def resume(self, h: Handle) -> None:
        if h.physical_id and self._waits(h, "RESUME"):
            self._trigger(h, "RESUME")

    def resume_done(self, h: Handle) -> bool:
        return not h.physical_id or self._done(h, "RESUME")

    def delete(self, h: Handle) -> None:
        if h.physical_id and self._waits(h, "DELETE") and not h.data.get("delete_reported"):
            try:
                self._trigger(h, "DELETE")
                h.data["awaiting_delete"] = True
                return  # the records go once the agent has reported (delete_done)
            except CloudError as exc:
                if exc.status != 404:
                    raise
        self._remove(h)

    def _remove(self, h: Handle) -> None:
        server = h.data.get("server_id")
        ignore_missing(lambda: h.cloud.delete("orchestration", self._path(h)))
        if server:
            swiftsignal.publish_server_metadata(h, server)
        if h.data.get("own_config"):
            ignore_missing(lambda: h.cloud.delete("orchestration", f"/software_configs/{h.data['own_config']}"))
        # a step superseded by a newer update (or killed) after it derived a config could not record it
        self._sweep(h, set())
        if h.data.get("signal_url"):
            swiftsignal.remove_signal_object(h, h.physical_name())

    def delete_done(self, h: Handle) -> bool:
        if h.data.get("awaiting_delete"):
            if not self._done(h, "DELETE"):
                return False
            h.data.pop("awaiting_delete")
            h.data["delete_reported"] = True
            self._remove(h)
        return gone(lambda: h.cloud.get("orchestration", self._path(h)))

    @classmethod
    def take_signal(cls, data: dict, body, action: str) -> dict:
        # the report of the action the resource is in (the row's, recorded before the action is sent)
        if body is not None and not isinstance(body, dict):
            raise ResourceFailure("Metadata format invalid: the signal must be a JSON object", "BadRequest")
        return {**data, "signals": [*data.get("signals", []), {**(body or {}), "action": action}]}

    @classmethod
    def signal_reason(cls, body) -> str:
        code = (body or {}).get("deploy_status_code", 0) if isinstance(body, dict) else 0
        return f"Signal: deployment {'succeeded' if str(code) in ('0', '') else 'failed (' + str(code) + ')'}"

    def attribute(self, h: Handle, name: str) -> Any:
        if not h.physical_id:
            return None
        deployment = h.cloud.get("orchestration", self._path(h))["software_deployment"]
        if name == "show":
            return deployment
        return (deployment.get("output_values") or {}).get(name)


class SoftwareDeploymentGroup(ResourceGroup):
    """One ``SoftwareDeployment`` per server of ``servers`` (a map: its keys name the members), as members of
    a nested stack like a ResourceGroup's, with its update_policy (rolling_update, batch_create)."""

    name = "OS::Heat::SoftwareDeploymentGroup"
    description = ("This resource associates a group of servers with some configuration. The configuration is "
                   "to be specified in the same way as OS::Heat::SoftwareDeployment, except that servers is a "
                   "map of names to server IDs.")
    properties = {
        **{k: v for k, v in SoftwareDeployment.properties.items() if k != "server"},
        "servers": Prop("map", "A map of names and server IDs to apply configuration to. The name is arbitrary "
                        "and is used as the Heat resource name for the corresponding deployment.", required=True,
                        update=True),
    }
    attributes = {
        "deploy_stdouts": "A map of Nova names and captured stdouts from the configuration execution to each "
                          "server.",
        "deploy_stderrs": "A map of Nova names and captured stderrs from the configuration execution to each "
                          "server.",
        "deploy_status_codes": "A map of Nova names and returned status code from the configuration execution.",
    }
    member: type[SoftwareDeployment] = SoftwareDeployment  # the type of each server's deployment
    MEMBER_ATTRIBUTES = {"deploy_stdouts": "deploy_stdout", "deploy_stderrs": "deploy_stderr",
                         "deploy_status_codes": "deploy_status_code"}

    @classmethod
    def schema_apply(cls, values, path: str) -> dict:
        return with_known_transport(apply_schema(cls.properties, values, path), path)

    @classmethod
    def member_types(cls, properties) -> list[str]:
        return [cls.member.name]

    def _removed(self, h: Handle) -> list[str]:
        return []

    def member_names(self, h: Handle) -> list[str]:
        return sorted(h.properties["servers"] or {})

    def nested_template(self, h: Handle) -> dict:
        shared = {k: h.properties[k] for k in self.member.properties
                  if k != "server" and h.properties.get(k) is not None}
        resources = {name: {"type": self.member.name, "properties": {**shared, "server": server}}
                     for name, server in sorted((h.properties["servers"] or {}).items())}
        return {"heat_template_version": "2015-04-30", "resources": resources}

    def attribute(self, h: Handle, name: str) -> Any:
        if name in self.MEMBER_ATTRIBUTES:
            return {m.name: h.stacks.member_attribute(h.physical_id, m, self.MEMBER_ATTRIBUTES[name], h.cloud)
                    for m in self._members(h)}
        return super().attribute(h, name)


TYPES = [SoftwareConfig, CloudConfig, MultipartMime, WaitConditionHandle, WaitCondition, SoftwareDeployment,
         SoftwareDeploymentGroup]
