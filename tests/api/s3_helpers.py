"""boto3 clients for the S3 API: an EC2 credential of a fresh project's member, made through Identity."""

from __future__ import annotations

import boto3
from botocore.config import Config

from tests.api.helpers import member_of_new_project, ok


def ec2_credential(admin, user_id: str, project_id: str) -> tuple[str, str]:
    made = ok(admin.post(f"/users/{user_id}/credentials/OS-EC2", json={"tenant_id": project_id}), 201)["credential"]
    return made["access"], made["secret"]


def s3_client(cloud, access: str, secret: str, signature: str = "s3v4"):
    return boto3.client("s3", endpoint_url=f"{cloud.url}/s3", aws_access_key_id=access,
                        aws_secret_access_key=secret, region_name="RegionOne",
                        config=Config(s3={"addressing_style": "path"}, signature_version=signature,
                                      retries={"max_attempts": 1}))


def s3_member(cloud, admin, role: str = "member"):
    """(boto3 client, project, user, access, secret) for a member of a fresh project."""
    project, user, _ = member_of_new_project(cloud, admin, role)
    access, secret = ec2_credential(admin, user["id"], project["id"])
    return s3_client(cloud, access, secret), project, user, access, secret
