"""Expand template.yaml's SAM resources into the plain CloudFormation that `sam deploy` would create.

cfn-lint 1.58 does not expand SAM itself, and skips its IAM action check when a template has a
`Transform`, so the tests lint this expansion too. Offline: the code location is a placeholder and
managed policies are not looked up. Needs a region (AWS_DEFAULT_REGION).

Usage: python tests/sam_translate.py template.yaml out.json
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER_CODE = "s3://placeholder-bucket/code.zip"


class NoManagedPolicies:
    """The template uses no managed policy names, so nothing needs looking up."""

    def load(self):
        return {}


def main(source, destination):
    with open(source, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    template.get("Globals", {}).get("Function", {})["CodeUri"] = PLACEHOLDER_CODE
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = PLACEHOLDER_CODE
    expanded = transform(template, {}, NoManagedPolicies())
    with open(destination, "w", encoding="utf-8") as f:
        json.dump(expanded, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
