# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sphinx configuration of the kumo.webstack docs site (scripts/docs.sh builds it into build/docs/html).

antsibull-docs writes the RST pages (modules, filters, the inventory plugin, the lookup, the roles)
and this file is the site's configuration. The build is offline: there is no intersphinx inventory
to download, so a reference to another collection's plugin (amazon.aws, community.aws...) or to a
page of the Ansible documentation becomes a plain link to docs.ansible.com here instead. A reference
to this collection that does not resolve is still a warning, which the build turns into an error.
"""

from docutils import nodes

project = "kumo.webstack"
copyright = "Contributors to the kumo.webstack project"
title = "kumo.webstack collection documentation"
html_short_title = "kumo.webstack"

extensions = ["sphinx_antsibull_ext"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {"collapse_navigation": False}

default_role = "any"
nitpicky = True

OWN_PREFIX = "ansible_collections.kumo.webstack."
DOCS = "https://docs.ansible.com/ansible/latest/"
# Labels of the Ansible documentation that antsibull-docs' page templates refer to
ANSIBLE_DOCS_LABELS = {
    "collections_keyword": "collections_guide/collections_using_playbooks.html",
    "common_return_values": "reference_appendices/common_return_values.html",
    "action_plugins": "plugins/action.html",
    "callback_plugins": "plugins/callback.html",
    "list_of_callback_plugins": "plugins/callback.html",
    "list_of_collections": "collections/index.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}


def external_url(target):
    """The docs.ansible.com address of a label that this site does not have, or None."""
    if target in ANSIBLE_DOCS_LABELS:
        return DOCS + ANSIBLE_DOCS_LABELS[target]
    if not target.startswith("ansible_collections.") or target.startswith(OWN_PREFIX):
        return None
    page, _, anchor = target[len("ansible_collections.") :].partition("__")
    parts = page.split(".", 2)
    if len(parts) != 3:
        return None
    namespace, name, plugin = parts
    url = f"{DOCS}collections/{namespace}/{name}/{plugin}.html"
    return f"{url}#{anchor}" if anchor else url


def link_elsewhere(app, env, node, contnode):
    if node.get("refdomain") != "std" or node.get("reftype") != "ref":
        return None
    url = external_url(node.get("reftarget", ""))
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url, classes=["external"])
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", link_elsewhere)
