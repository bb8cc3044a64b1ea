/**
 * Element order of ItemType, CalendarItemType and ContactItemType in the Exchange Online schema
 * (types.xsd). Responses must follow it to validate, and some clients read positionally.
 */
export const ITEM_ORDER = [
  'MimeContent', 'ItemId', 'ParentFolderId', 'ItemClass', 'Subject', 'Sensitivity', 'Body', 'Attachments',
  'DateTimeReceived', 'Size', 'Categories', 'Importance', 'InReplyTo', 'IsSubmitted', 'IsDraft', 'IsFromMe',
  'IsResend', 'IsUnmodified', 'InternetMessageHeaders', 'DateTimeSent', 'DateTimeCreated', 'ResponseObjects',
  'ReminderDueBy', 'ReminderIsSet', 'ReminderNextTime', 'ReminderMinutesBeforeStart', 'DisplayCc', 'DisplayTo',
  'DisplayBcc', 'HasAttachments', 'ExtendedProperty', 'Culture', 'EffectiveRights', 'LastModifiedName',
  'LastModifiedTime', 'IsAssociated', 'WebClientReadFormQueryString', 'WebClientEditFormQueryString',
  'ConversationId', 'UniqueBody', 'Flag', 'StoreEntryId', 'InstanceKey', 'NormalizedBody',
  'EntityExtractionResult', 'PolicyTag', 'ArchiveTag', 'RetentionDate', 'Preview',
  'RightsManagementLicenseData', 'PredictedActionReasons', 'IsClutter', 'BlockStatus', 'HasBlockedImages',
  'TextBody', 'IconIndex', 'SearchKey', 'SortKey', 'Hashtags', 'Mentions', 'MentionedMe', 'MentionsPreview',
  'MentionsEx', 'AppliedHashtags', 'AppliedHashtagsPreview', 'Likes', 'LikesPreview',
  'PendingSocialActivityTagIds', 'AtAllMention', 'CanDelete', 'InferenceClassification',
];

export const CALENDAR_ORDER = [
  'UID', 'RecurrenceId', 'DateTimeStamp', 'Start', 'End', 'OriginalStart', 'IsAllDayEvent',
  'LegacyFreeBusyStatus', 'Location', 'When', 'IsMeeting', 'IsCancelled', 'IsRecurring',
  'MeetingRequestWasSent', 'IsResponseRequested', 'CalendarItemType', 'MyResponseType', 'Organizer',
  'RequiredAttendees', 'OptionalAttendees', 'Resources', 'InboxReminders', 'ConflictingMeetingCount',
  'AdjacentMeetingCount', 'ConflictingMeetings', 'AdjacentMeetings', 'Duration', 'TimeZone',
  'AppointmentReplyTime', 'AppointmentSequenceNumber', 'AppointmentState', 'Recurrence', 'FirstOccurrence',
  'LastOccurrence', 'ModifiedOccurrences', 'DeletedOccurrences', 'MeetingTimeZone', 'StartTimeZone',
  'EndTimeZone', 'ConferenceType', 'AllowNewTimeProposal', 'IsOnlineMeeting', 'MeetingWorkspaceUrl',
  'NetShowUrl', 'EnhancedLocation', 'StartWallClock', 'EndWallClock', 'StartTimeZoneId', 'EndTimeZoneId',
  'IntendedFreeBusyStatus', 'JoinOnlineMeetingUrl', 'OnlineMeetingSettings', 'IsOrganizer',
  'CalendarActivityData', 'DoNotForwardMeeting',
];

export const CONTACT_ORDER = [
  'FileAs', 'FileAsMapping', 'DisplayName', 'GivenName', 'Initials', 'MiddleName', 'Nickname', 'CompleteName',
  'CompanyName', 'EmailAddresses', 'AbchEmailAddresses', 'PhysicalAddresses', 'PhoneNumbers', 'AssistantName',
  'Birthday', 'BusinessHomePage', 'Children', 'Companies', 'ContactSource', 'Department', 'Generation',
  'ImAddresses', 'JobTitle', 'Manager', 'Mileage', 'OfficeLocation', 'PostalAddressIndex', 'Profession',
  'SpouseName', 'Surname', 'WeddingAnniversary', 'HasPicture', 'PhoneticFullName', 'PhoneticFirstName',
  'PhoneticLastName', 'Alias', 'Notes', 'Photo', 'UserSMIMECertificate', 'MSExchangeCertificate', 'DirectoryId',
  'ManagerMailbox', 'DirectReports',
];

export const PHYSICAL_ADDRESS_ORDER = ['Street', 'City', 'State', 'CountryOrRegion', 'PostalCode'];
export const COMPLETE_NAME_ORDER = ['Title', 'FirstName', 'MiddleName', 'LastName', 'Suffix', 'Initials', 'FullName', 'Nickname', 'YomiFirstName', 'YomiLastName'];

export const CALENDAR_FULL_ORDER = [...ITEM_ORDER, ...CALENDAR_ORDER];
export const CONTACT_FULL_ORDER = [...ITEM_ORDER, ...CONTACT_ORDER];

const CALENDAR_SET = new Set(CALENDAR_FULL_ORDER);
const CONTACT_SET = new Set(CONTACT_FULL_ORDER);

export function isFieldOf(kind: 'CalendarItem' | 'Contact', name: string): boolean {
  return (kind === 'CalendarItem' ? CALENDAR_SET : CONTACT_SET).has(name);
}

/** Fields Exchange computes; a client write to them is ignored or rejected, never stored. */
export const READ_ONLY = new Set([
  'ItemId', 'ParentFolderId', 'DateTimeReceived', 'Size', 'IsSubmitted', 'IsDraft', 'IsFromMe', 'IsResend',
  'IsUnmodified', 'DateTimeSent', 'DateTimeCreated', 'ResponseObjects', 'DisplayCc', 'DisplayTo', 'DisplayBcc',
  'HasAttachments', 'EffectiveRights', 'LastModifiedName', 'LastModifiedTime', 'IsAssociated', 'UID',
  'DateTimeStamp', 'OriginalStart', 'IsMeeting', 'IsCancelled', 'IsRecurring', 'CalendarItemType',
  'MyResponseType', 'Duration', 'TimeZone', 'AppointmentState', 'FirstOccurrence', 'LastOccurrence',
  'ModifiedOccurrences', 'DeletedOccurrences', 'CompleteName', 'RecurrenceId', 'ConflictingMeetingCount',
  'AdjacentMeetingCount', 'ConflictingMeetings', 'AdjacentMeetings', 'AppointmentSequenceNumber',
]);

/**
 * Maps a FieldURI (`calendar:Start`, `contacts:EmailAddress`, `contacts:PhysicalAddress:Street`) to
 * the element that holds it.
 */
export function fieldUriToElement(uri: string): { element: string; sub?: string } {
  const parts = uri.split(':');
  const local = parts[1] ?? parts[0];
  switch (local) {
    case 'EmailAddress':
      return { element: 'EmailAddresses' };
    case 'PhoneNumber':
      return { element: 'PhoneNumbers' };
    case 'ImAddress':
      return { element: 'ImAddresses' };
    case 'PhysicalAddress':
      return { element: 'PhysicalAddresses', sub: parts[2] };
    default:
      return { element: local };
  }
}
