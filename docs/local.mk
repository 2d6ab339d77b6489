# docs/local.mk: the layout specification and the user guide.
dist_doc_DATA += docs/layout.md docs/guide.md docs/json.md docs/debuggers.md
dist_man_MANS = docs/tm-core.1
