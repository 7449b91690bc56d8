"""Keystone set-up for test/real-cinder/up.sh --keystone, in ONE process.

Does what `keystone-manage db_sync` and `keystone-manage bootstrap` do, then makes the test
accounts through keystone's own managers (the same code the REST API calls, against the same
database), instead of ~20 HTTP requests to the single-threaded test server:

  - role "service"; project "service" with user "cinder" (admin + service roles: the account
    cinder-api's keystonemiddleware uses);
  - the volumev3 service with public/internal/admin endpoints <CINDER_URL>/v3/%(project_id)s;
  - project "csi" with user "csi" holding the member role (hence reader), and an application
    credential "cinder-metal-csi" of user csi on project csi, role member (the contract suite's);
  - the same again as "csi-tier" (the real-tier tests' own project);
  - a project-scoped token of the cloud admin (for up.sh's own admin calls).

Each separate keystone-manage run spends about 3 s importing keystone; this imports it once.
up.sh writes the fernet and credential keys itself (the server refuses to start without them).

    OS_BOOTSTRAP_PASSWORD=... CINDER_SVC_PASSWORD=... CSI_PASSWORD=... TIER_PASSWORD=... \
    CINDER_URL=http://... \
      /usr/bin/python3 keystone_bootstrap.py KEYSTONE_CONF KEYSTONE_PUBLIC_URL OUT_FILE

Secrets come from the environment (never argv); the ids, the application credential secret and
the admin token are written as NAME=value lines to OUT_FILE (mode 0600).
"""
import base64
import os
import secrets
import sqlite3
import sys
import uuid

from keystone.cmd import cli

conf, url, out_file = sys.argv[1], sys.argv[2], sys.argv[3]

cli.main(argv=['keystone-manage', '--config-file', conf, 'db_sync'])
print('keystone-manage db_sync: done', flush=True)
db = cli.CONF.database.connection
if db.startswith('sqlite:///'):
    # WAL: the server's reads do not wait for writers
    sqlite3.connect(db[len('sqlite:///'):]).execute('PRAGMA journal_mode=WAL')

# bootstrap reads the admin password from OS_BOOTSTRAP_PASSWORD
cli.CONF(args=['--config-file', conf, 'bootstrap', '--bootstrap-admin-url', url,
               '--bootstrap-internal-url', url, '--bootstrap-public-url', url,
               '--bootstrap-region-id', 'RegionOne'], project='keystone')
cli.CONF.command.cmd_class.main()
print('keystone-manage bootstrap: done', flush=True)

from keystone.common import provider_api  # noqa: E402  (after the backends are loaded)

P = provider_api.ProviderAPIs
DOMAIN = 'default'


def role_id(name):
    return P.role_api.get_unique_role_by_name(name)['id']


def new_role(name):
    rid = uuid.uuid4().hex
    return P.role_api.create_role(rid, {'id': rid, 'name': name})['id']


def new_project(name):
    pid = uuid.uuid4().hex
    return P.resource_api.create_project(pid, {
        'id': pid, 'name': name, 'domain_id': DOMAIN, 'enabled': True,
        'description': 'cinder-metal-csi tests'})['id']


def new_user(name, password):
    return P.identity_api.create_user({
        'name': name, 'password': password, 'domain_id': DOMAIN, 'enabled': True})['id']


def grant(project, user, role):
    P.assignment_api.add_role_to_user_and_project(user_id=user, project_id=project,
                                                  role_id=role)


service_role = new_role('service')
svc_project = new_project('service')
cinder_user = new_user('cinder', os.environ['CINDER_SVC_PASSWORD'])
grant(svc_project, cinder_user, role_id('admin'))
grant(svc_project, cinder_user, service_role)

sid = uuid.uuid4().hex
P.catalog_api.create_service(sid, {'id': sid, 'type': 'volumev3', 'name': 'cinderv3',
                                   'description': 'Cinder v3', 'enabled': True})
for iface in ('public', 'internal', 'admin'):
    eid = uuid.uuid4().hex
    P.catalog_api.create_endpoint(eid, {
        'id': eid, 'service_id': sid, 'interface': iface, 'region_id': 'RegionOne',
        'url': os.environ['CINDER_URL'] + '/v3/%(project_id)s', 'enabled': True})

member = role_id('member')


def tenant(name, password):
    """project NAME, user NAME (member there), and an application credential of that user."""
    project = new_project(name)
    user = new_user(name, password)
    grant(project, user, member)
    # as POST /v3/users/{id}/application_credentials does it (keystone/api/users.py)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b'=').decode()
    cred = P.application_credential_api.create_application_credential({
        'id': uuid.uuid4().hex, 'name': 'cinder-metal-csi', 'description': 'tests',
        'secret': secret, 'user_id': user, 'project_id': project,
        'roles': [P.role_api.get_role(member)], 'expires_at': None, 'unrestricted': False,
        'system': None})
    return project, user, cred['id'], cred['name'], secret


# "csi": the contract suite's project; "csi-tier": the real-tier tests' own (quotas and
# listings of one do not disturb the other when vitest runs both files at once)
csi_project, csi_user, csi_cred, csi_cred_name, csi_secret = tenant('csi', os.environ['CSI_PASSWORD'])
tier_project, tier_user, tier_cred, _, tier_secret = tenant('csi-tier', os.environ['TIER_PASSWORD'])

admin_user = P.identity_api.get_user_by_name('admin', DOMAIN)['id']
admin_project = P.resource_api.get_project_by_name('admin', DOMAIN)['id']
admin_token = P.token_provider_api.issue_token(admin_user, ['password'],
                                               project_id=admin_project).id
print('accounts, catalog and application credential: done', flush=True)

fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, 'w') as f:
    for k, v in [('KEYSTONE_ADMIN_PROJECT_ID', admin_project), ('CSI_PROJECT_ID', csi_project),
                 ('CSI_USER_ID', csi_user), ('CSI_APP_CRED_ID', csi_cred),
                 ('CSI_APP_CRED_NAME', csi_cred_name), ('CSI_APP_CRED_SECRET', csi_secret),
                 ('TIER_PROJECT_ID', tier_project), ('TIER_USER_ID', tier_user),
                 ('TIER_APP_CRED_ID', tier_cred), ('TIER_APP_CRED_SECRET', tier_secret),
                 ('ADMIN_TOKEN', admin_token)]:
        f.write('%s=%s\n' % (k, v))
