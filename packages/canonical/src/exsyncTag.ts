/**
 * Our link id travels on Exchange items as a named string property in a property set of our own,
 * whichever transport wrote it. The GUID is fixed forever: items tagged by any earlier exsync
 * version must stay findable, and Exchange stores the GUID lower-cased, so it is written lower-case.
 */
export const EXSYNC_PROPERTY_SET_ID = '6f0c2b9e-4d1a-4e8b-9c3f-7a5d2e1b8c40';
export const EXSYNC_LINK_ID_PROPERTY_NAME = 'exsyncLinkId';

/**
 * The same property as a Graph `singleValueExtendedProperties` id: `String {guid} Name <name>`
 * (learn.microsoft.com/graph/api/resources/extended-properties-overview; GRAPH-NOTES "Extended
 * properties"). The name is case-sensitive in filters.
 */
export const EXSYNC_LINK_ID_GRAPH_PROPERTY_ID = `String {${EXSYNC_PROPERTY_SET_ID}} Name ${EXSYNC_LINK_ID_PROPERTY_NAME}`;
