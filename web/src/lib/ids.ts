/** The shape of an 18-character resident ID number (GB 11643); the server checks its check character. */
export const RESIDENT_ID = /^\d{17}[\dXx]$/;

/** A mainland mobile number, as the server's isValidMobile takes it. */
export const MOBILE = /^1[3-9]\d{9}$/;
