# docs/local.mk: the layout specification and the user guide.
dist_doc_DATA += docs/layout.md
